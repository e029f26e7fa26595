"""The modes registry rendered: the `python -m convert --help` section and the Markdown table of docs/convert.md."""

from __future__ import annotations

import argparse
import textwrap

from convert.modes import CLIENTS, MODES, RGB_ONLY_CLIENTS, RGB_ONLY_ERROR, Mode, Support


def _default_mark(mode: Mode) -> str:
    return " (default)" if mode == MODES[0] else ""


def modes_help() -> str:
    """The `python -m convert --help` section: for each --quantize / --io, who loads it and who not."""
    lines = ["which clients load which mode (--quantize / --io; python -m convert.modes prints the table):"]
    for mode in MODES:
        said = {True: [], False: []}
        for key, name in CLIENTS.items():
            support, short = mode.support(key), name.split(" (")[0]
            said[support.loads].append(f"{short} ({support.note})" if support.note else short)
        text = ", ".join(said[True]) + (f"; not {', '.join(said[False])}" if said[False] else "")
        flags = f"{mode.quantize} / {mode.io_type}{_default_mark(mode)}"
        lines += textwrap.wrap(text, 104, initial_indent=f"  {flags:<24}", subsequent_indent=" " * 26)
    return "\n".join(lines) + "\n"


def _cell(support: Support) -> str:
    text = "yes" if support.loads else "**no**"
    if support.note:
        text += f", {support.note}"
    if support.error:
        text += f": `... {support.error}`"
    return text


def modes_table_markdown() -> str:
    """The modes as a Markdown table (one row a mode, one column a client) and its note on grayscale models."""
    header = ["`--quantize` / `--io`", "file", "weights / activations", *CLIENTS.values()]
    rows = [
        " | ".join(header),
        " | ".join("---" for _ in header),
        *(
            " | ".join(
                [f"`{mode.quantize}` / `{mode.io_type}`{_default_mark(mode)}"]
                + [f"`{mode.filename}`", mode.tensors]
                + [_cell(mode.support(key)) for key in CLIENTS]
            )
            for mode in MODES
        ),
    ]
    rgb_only = " and ".join(CLIENTS[key] for key in RGB_ONLY_CLIENTS)
    return "\n".join(
        [
            *(f"| {row} |" for row in rows),
            "",
            f"Models with a depth-1 (grayscale) input convert in every mode, but the {rgb_only} refuse them "
            f"(`{RGB_ONLY_ERROR}`).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m convert.modes`: prints the modes table (Markdown) for docs/convert.md."""
    argparse.ArgumentParser(
        prog="python -m convert.modes",
        description="Print the conversion modes and the clients that load each as a Markdown table, "
        "the block between <!-- modes-table --> and <!-- /modes-table --> in docs/convert.md.",
    ).parse_args(argv)
    print(modes_table_markdown())
    return 0
