"""`python -m benchmarks.elpv.verify MODEL`: a published ELPV model's test accuracy through the TFLite Task Library.

Checks MODEL's sha256 against the MODEL.sha256 file beside it (when there is one), then has the
Task Library (tflite-support 0.4.4, in the clients' environment: `make clients`) classify every
cell of the exported test split (`python -m train.elpv --out build/data/elpv`) with the labels
and normalization the model's own metadata carries, and reports accuracy, each class's recall
and the accuracy on the cells of each expert defect probability (soft_labels.json of the
export). The Task Library is the client an Android app would use, so this is the figure a user
gets, independent of this repository's runtime.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from edge_runtime.errors import UserError, cli_main
from edge_runtime.files import atomic_write_text, sha256_file

CLIENT_SCRIPT = Path(__file__).resolve().parents[1] / "instruments" / "task_library_labels.py"


def check_sha256(model: Path) -> str | None:
    """Compares MODEL with MODEL.sha256 (`sha256sum` format) when present; returns the digest checked.

    Raises:
      UserError: The file does not match its published digest.
    """
    listed = model.with_name(model.name + ".sha256")
    if not listed.is_file():
        return None
    expected = listed.read_text().split()[0].lower()
    actual = sha256_file(model)
    if actual != expected:
        raise UserError(f"{model}: sha256 {actual} differs from {listed}'s {expected}; the file was changed")
    return actual


def test_cells(data: Path) -> tuple[list[Path], list[str], list[float]]:
    """(image paths, their folder labels, their expert defect probabilities) of an ELPV export's split."""
    from edge_runtime.folders import read_class_folder

    folder = read_class_folder(data)
    soft_file = data / "soft_labels.json"
    soft = json.loads(soft_file.read_text())["images"] if soft_file.is_file() else {}
    paths = [path for path, _ in folder.files]
    labels = [folder.class_names[index] for _, index in folder.files]
    probability = [
        round(soft[p.relative_to(data).as_posix()].get("defective", float("nan")), 3)
        if p.relative_to(data).as_posix() in soft
        else float("nan")
        for p in paths
    ]
    return paths, labels, probability


def score(truth: list[str], predicted: list[str], probability: list[float]) -> dict:
    """Accuracy, each class's recall and the accuracy per expert probability."""
    right = [t == p for t, p in zip(truth, predicted, strict=True)]
    recall = {
        name: sum(r for r, t in zip(right, truth, strict=True) if t == name) / truth.count(name)
        for name in sorted(set(truth))
    }
    by_probability = {}
    for value in sorted({p for p in probability if p == p}):
        picked = [r for r, p in zip(right, probability, strict=True) if p == value]
        by_probability[f"{value:.3f}"] = {"images": len(picked), "accuracy": sum(picked) / len(picked)}
    return {
        "images": len(truth),
        "correct": sum(right),
        "accuracy": sum(right) / len(truth),
        "recall": recall,
        "accuracy_by_expert_probability": by_probability,
    }


def task_library_labels(python: str, model: Path, paths: list[Path]) -> list[str]:
    """The Task Library's top-1 label for each image, run by `python` (the clients' environment).

    Raises:
      UserError: The clients' Python is missing, or the Task Library rejected the model.
    """
    if not Path(python).is_file():
        raise UserError(f"{python}: no clients' Python here; run `make clients` or pass --clients-python")
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "images.txt"
        listing.write_text("".join(f"{p}\n" for p in paths))
        proc = subprocess.run(
            [python, str(CLIENT_SCRIPT), str(model), str(listing)], capture_output=True, text=True
        )
    lines = proc.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {"error": proc.stderr.strip()[-300:] or "no output"}
    except json.JSONDecodeError:
        answer = {"error": lines[-1][:300]}
    if "error" in answer:
        raise UserError(f"{model}: the Task Library refused it: {answer['error']}")
    return answer["labels"]


@cli_main
def main(argv: list[str] | None = None) -> int:
    from benchmarks.suite.cli import default_clients_python

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("model", type=Path, help="the .tflite (with metadata and labels inside)")
    parser.add_argument(
        "--data", type=Path, default=Path("build/data/elpv/test"), help="test split (default %(default)s)"
    )
    parser.add_argument(
        "--clients-python", default=default_clients_python(), help="Python of the clients' venv"
    )
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        raise UserError(f"{args.model}: no such model file")
    if not args.data.is_dir():
        raise UserError(
            f"{args.data}: no test split here; export ELPV first: python -m train.elpv --out build/data/elpv"
        )
    digest = check_sha256(args.model)
    paths, truth, probability = test_cells(args.data)
    predicted = task_library_labels(args.clients_python or "", args.model.resolve(), paths)
    result = {
        "model": args.model.as_posix(),
        "sha256": digest or sha256_file(args.model),
        "sha256_checked": digest is not None,
        "client": "TFLite Task Library (tflite-support) ImageClassifier, 1 thread",
        "data": args.data.as_posix(),
        **score(truth, predicted, probability),
    }
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        atomic_write_text(args.out, text)
    print(text, end="")
    print(
        f"Task Library on {result['images']} cells of {args.data}: accuracy {100 * result['accuracy']:.2f}%",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
