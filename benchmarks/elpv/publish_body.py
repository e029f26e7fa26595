"""`python -m benchmarks.elpv.publish_body FILE.weights.h5`: commit-ready copy of a pre-trained body, with its card.

FILE is a pre-training of `python -m train.simclr`, with the record it writes beside it
(FILE.weights.h5.json). Writes into --out (default benchmarks/results/elpv/pretraining): the weights,
the record (paths shown relative to the repository), the weights' sha256 in `sha256sum` format, and
README.md: what the body is, how it was made, how long it took, and how `make` uses it. The folder
is written beside the target and renamed into place, so a failure leaves the previous copy whole.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from pathlib import Path

from benchmarks.elpv.publish import replace_folder, simclr_record
from benchmarks.instruments.paths import RESULTS, relative_paths, shown_path
from edge_runtime.errors import UserError, cli_main
from edge_runtime.files import sha256_file

OUT = RESULTS / "elpv" / "pretraining"


def readme(record: dict, name: str, size: int, digest: str, folder: str) -> str:
    """README.md of a published pre-trained body."""
    from train.simclr import MIN_CROP, NOISE, command

    last = record["log"][-1]
    machine = (
        f" on {record['cores']} cores of an {record['cpu']}" if "cpu" in record and "cores" in record else ""
    )
    crop = record.get("min_crop", MIN_CROP)
    noise = record.get("noise", NOISE)
    lines = [
        f"# Pre-trained body: {name}",
        "",
        *textwrap.wrap(
            f"The `{record['model']}` network (width {record['alpha']}) after self-supervised pre-training "
            f"(SimCLR) on the images of `{record['data']}`, their labels unused. Only the body (up to the "
            "global pooling) is trained; the classification head is as initialized. `python -m train "
            "--weights` starts from it, and `make` does so for ELPV.",
            100,
            break_on_hyphens=False,
        ),
        "",
        f"- `{name}`: {size:,} bytes, sha256 `{digest}` (`sha256sum -c {name}.sha256`)",
        f"- `{name}.json`: the record `python -m train.simclr` wrote: settings, loss per epoch, wall time",
        f"- {'gray' if record.get('gray') else 'RGB'} input; {record['classes']} classes in the head",
        f"- views: {record['size']} px crops of {100 * crop:.0f}-100% of the area of images loaded at "
        f"{record['load_size']} px, flips and transposes, contrast, brightness, noise up to {noise:g} levels",
        f"- {last['epoch']} epochs in batches of {record['batch_size']}: final loss {last['loss']:.3f}, "
        f"{100 * last['pairs_found']:.0f}% of views found their pair in the batch",
        f"- {last['seconds'] / 60:.1f} min wall{machine}",
        "",
        "## Reproduce",
        "",
        "```sh",
        "python -m train.elpv --out build/data/elpv",
        command(record),
        "```",
        "",
        "A re-run is not promised to give the same bytes (compare the sha256); it gives a body of the same",
        "recipe. `make PRETRAIN=1` runs it and trains from the result.",
        "",
        "## Use",
        "",
        "```sh",
        "python -m train --data build/data/elpv/train --out build/model <the Makefile's ELPV_RECIPE> "
        f"<its ELPV_PRETRAINED: learning rate, split seed, seed> --weights {folder}/{name}",
        "```",
        "",
    ]
    if record.get("note"):
        lines += [record["note"], ""]
    return "\n".join(lines)


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.elpv.publish_body", description=__doc__.splitlines()[0]
    )
    parser.add_argument("weights", type=Path, help="FILE.weights.h5 of python -m train.simclr")
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (default %(default)s)")
    args = parser.parse_args(argv)
    if not args.weights.is_file():
        raise UserError(
            f"{args.weights}: no such file; give the FILE.weights.h5 python -m train.simclr wrote"
        )
    record = simclr_record(str(args.weights))
    name = args.weights.name
    digest = sha256_file(args.weights)

    def fill(staging: Path) -> None:
        shutil.copyfile(args.weights, staging / name)
        (staging / f"{name}.json").write_text(json.dumps(relative_paths(record), indent=1) + "\n")
        (staging / f"{name}.sha256").write_text(f"{digest}  {name}\n")
        text = readme(relative_paths(record), name, args.weights.stat().st_size, digest, shown_path(args.out))
        (staging / "README.md").write_text(text)

    replace_folder(args.out, fill)
    print(f"published {args.out}: {name}, sha256 {digest[:12]}...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
