"""The doctor's output: one aligned line a check (its fix below it when not ok), or one JSON object."""

from __future__ import annotations

import json
from collections.abc import Sequence

from edge_runtime.doctor.check import FAIL, OK, VERDICTS, Check, worst

EXIT_HEALTHY = 0  # only ok, info and warn: the doctor reports, it does not judge warnings
EXIT_FAILED = 1  # at least one fail: a path this device is set up for is broken


def exit_code(checks: Sequence[Check]) -> int:
    """1 when any check failed, else 0."""
    return EXIT_FAILED if worst(checks) == FAIL else EXIT_HEALTHY


def summary(checks: Sequence[Check]) -> dict[str, int]:
    return {verdict: sum(c.verdict == verdict for c in checks) for verdict in VERDICTS}


def text_report(checks: Sequence[Check]) -> str:
    """`[ok]   numpy     2.4.6 (...)` lines, each fix indented under its line, and a count at the end."""
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for check in checks:
        tag = f"[{check.verdict}]".ljust(7)
        lines.append(f"{tag}{check.name.ljust(width)}  {check.detail}")
        if check.fix and check.verdict != OK:
            lines.append(f"{' ' * (7 + width)}  fix: {check.fix}")
    counts = ", ".join(f"{n} {verdict}" for verdict, n in summary(checks).items())
    lines.append(f"{counts}; exit {exit_code(checks)}")
    return "\n".join(lines)


def json_report(checks: Sequence[Check]) -> str:
    """One JSON object: the checks (name, verdict, detail, fix, facts), the counts and the exit code."""
    record = {
        "checks": [
            {"name": c.name, "verdict": c.verdict, "detail": c.detail, "fix": c.fix, "facts": dict(c.facts)}
            for c in checks
        ],
        "summary": summary(checks),
        "exit_code": exit_code(checks),
    }
    return json.dumps(record, default=str)
