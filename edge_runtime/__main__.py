"""Command line of the edge runtime: `python -m edge_runtime classify|camera --model M.tflite ...`."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from edge_runtime.errors import EXIT_USER_ERROR, UserError, cli_main

if TYPE_CHECKING:
    from edge_runtime.ambiguity import Confidence


def _positive_int(text: str) -> int:
    """argparse type: an integer of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The `python -m edge_runtime` parser, one subcommand per task."""
    from edge_runtime.ambiguity import add_ambiguity_arguments
    from edge_runtime.delegate_args import add_delegate_arguments
    from edge_runtime.model_labels import LABELS_BESIDE_MODEL

    parser = argparse.ArgumentParser(prog="python -m edge_runtime", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    classify = commands.add_parser("classify", help="classify image files with a .tflite model")
    classify.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="image files to classify; a folder stands for every image in it and its sub-folders, sorted",
    )
    classify.add_argument("--model", required=True, help="the .tflite model")
    classify.add_argument(
        "--labels",
        help="labels file (one name per line), for models without embedded labels; "
        f"default: the model's own labels, else {LABELS_BESIDE_MODEL} beside the model",
    )
    classify.add_argument(
        "--top-k", type=_positive_int, default=3, help="classes shown per image (default 3)"
    )
    classify.add_argument("--threshold", type=float, default=0.0, help="lowest score shown (default 0.0)")
    classify.add_argument(
        "--threads", type=_positive_int, help="interpreter CPU threads (default: every usable core)"
    )
    classify.add_argument(
        "--backend", help="ai_edge_litert, tflite_runtime or tensorflow (default: first installed)"
    )
    add_delegate_arguments(classify)
    add_ambiguity_arguments(classify)
    classify.add_argument("--json", action="store_true", help="print one JSON object per image")
    classify.add_argument(
        "--verify",
        action="store_true",
        help="first check the model's sha256 against the model_card.json beside it (refuse a damaged copy)",
    )
    classify.add_argument(
        "-v", "--verbose", action="store_true", help="log the model, backend and labels used"
    )
    from edge_runtime.camera.cli import add_camera_parser

    add_camera_parser(commands)
    from edge_runtime.doctor.cli import add_doctor_parser

    add_doctor_parser(commands)
    return parser


def _print_result(image: str, classes: list, confidence: Confidence, as_json: bool, threshold: float) -> None:
    """Prints one image's classes (and whether the result is ambiguous) as text lines or one JSON object."""
    if as_json:
        rows = [{"id": c.id, "label": c.label, "score": round(c.score, 6)} for c in classes]
        record = {
            "image": image,
            "classes": rows,
            "ambiguous": confidence.ambiguous,
            "top_score": round(confidence.top_score, 6),
            "margin": round(confidence.margin, 6),
        }
        print(json.dumps(record), flush=True)
        return
    print(image)
    for index, c in enumerate(classes):
        # On the top class's line, so each image keeps one line per class shown.
        mark = f"  [ambiguous: {confidence.reason}]" if index == 0 and confidence.ambiguous else ""
        print(f"  {c.score:.4f}  {c.label if c.label is not None else f'class {c.id}'}{mark}")
    if not classes:
        print(f"  (no class scored {threshold} or more)")
    sys.stdout.flush()


def _expand_folders(paths: Sequence[str]) -> list[str | UserError]:
    """The images to classify: files as given, each folder replaced by its images (recursive, sorted)."""
    from edge_runtime.folders import list_images
    from edge_runtime.image import IMAGE_SUFFIXES

    expanded: list[str | UserError] = []
    for path in paths:
        if not Path(path).is_dir():
            expanded.append(path)
            continue
        images = list_images(path, recursive=True)
        expanded.extend(str(p) for p in images)
        if not images:
            expanded.append(UserError(f"{path}: a folder with no image files ({', '.join(IMAGE_SUFFIXES)})"))
    return expanded


def run_classify(args: argparse.Namespace) -> int:
    """Classifies every image; a bad image is one `error:` line, the rest still run."""
    from edge_runtime.ambiguity import rule_from_args
    from edge_runtime.classify import classify_image, get_confidence
    from edge_runtime.common import input_dtype, input_size, num_classes
    from edge_runtime.delegate_args import delegate_from_args
    from edge_runtime.image import load_rgb
    from edge_runtime.interpreter import backend_name, default_threads, make_interpreter
    from edge_runtime.model_labels import resolve_labels

    rule = rule_from_args(args)
    model_path = Path(args.model)
    if args.verify:
        from edge_runtime.model_verify import verify_against_card

        print(verify_against_card(model_path), file=sys.stderr)
    choice = delegate_from_args(args)
    interpreter = make_interpreter(
        model_path,
        num_threads=args.threads or default_threads(),
        backend=args.backend,
        delegate=choice.library,
        delegate_options=choice.options,
    )
    class_count = num_classes(interpreter)
    warn = functools.partial(print, file=sys.stderr)
    labels, labels_source = resolve_labels(model_path, args.labels, class_count, warn=warn)
    if args.verbose:
        width, height = input_size(interpreter)
        print(
            f"model: {model_path} ({width}x{height} {input_dtype(interpreter)} input, {class_count} classes), "
            f"backend: {backend_name(interpreter)}, labels: {labels_source}, delegate: {choice.describe()}; "
            f"ambiguous when {rule.describe()}",
            file=sys.stderr,
        )
    failed = 0
    for image in _expand_folders(args.images):
        if isinstance(image, UserError):  # a folder without images
            print(f"error: {image}", file=sys.stderr, flush=True)
            failed += 1
            continue
        try:
            rgb = load_rgb(image, size_hint=input_size(interpreter))
        except (ValueError, OSError) as err:  # UserError, FileNotFoundError, unreadable file
            print(f"error: {err}", file=sys.stderr, flush=True)
            failed += 1
            continue
        classes = classify_image(interpreter, rgb, top_k=args.top_k, threshold=args.threshold, labels=labels)
        _print_result(image, classes, get_confidence(interpreter, rule), args.json, args.threshold)
    return EXIT_USER_ERROR if failed else 0


# Library parameters whose flag is not `--` + their name with dashes.
FLAGS = {"max_frames": "--frames", "level": "--priority", "spec": "--source"}


@cli_main(flags=FLAGS)
def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line and runs the subcommand.

    The module imports nothing heavy at its top, so for `camera` the stop handlers are in place
    within milliseconds of the start (a SIGTERM then still ends the run with its summary).
    """
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["camera"]:
        from edge_runtime.camera.signals import catch_early

        undo = catch_early()
        try:
            return _run_command(words)
        finally:
            undo()
    return _run_command(words)


def _run_command(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "classify":
        return run_classify(args)
    if args.command == "camera":
        from edge_runtime.camera.cli import run_camera

        return run_camera(args)
    if args.command == "doctor":
        from edge_runtime.doctor.cli import run_doctor

        return run_doctor(args)
    raise UserError(f"unknown command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
