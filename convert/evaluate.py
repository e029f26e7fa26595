"""`python -m convert.evaluate`: the float Keras model vs its .tflite conversions on a held-out class folder.

Top-1 (and top-5 from 5 classes), accuracy on the confident results with the share set aside as
ambiguous, and the accuracy-vs-share-kept curves (JSON, and a PNG beside it); the scores come from
convert.scores, the report from convert.evaluation_report.
"""

from __future__ import annotations

import sys
from pathlib import Path

from convert.scores import keras_scores, load_evaluation_set, tflite_scores


def confidence_png_path(json_path: Path) -> Path:
    """Where the curve PNG goes beside the summary JSON: evaluation.json -> evaluation_confidence.png."""
    return json_path.with_name(f"{json_path.stem}_confidence.png")


def main(argv: list[str] | None = None) -> int:
    """`python -m convert.evaluate`: float Keras vs .tflite accuracy on a class folder, printed and saved."""
    import argparse
    import json

    from convert.confidence_plot import model_curves, plot_confidence_curves
    from convert.converter import image_input_shape, load_keras_model
    from convert.evaluation_report import format_report, report
    from edge_runtime.ambiguity import add_ambiguity_arguments, rule_from_args
    from edge_runtime.errors import UserError, cli_main
    from edge_runtime.file_set import check_output_folder, staged_files
    from edge_runtime.files import atomic_write_bytes, atomic_write_text
    from labels import read_labels

    parser = argparse.ArgumentParser(prog="python -m convert.evaluate", description=main.__doc__)
    parser.add_argument("--keras", required=True, type=Path, help="the float Keras model")
    parser.add_argument("--tflite", nargs="+", required=True, type=Path, help=".tflite models to compare")
    parser.add_argument("--data", required=True, type=Path, help="test folder: DATA/<class>/*")
    parser.add_argument(
        "--labels", type=Path, help="labels file (default: labels.txt beside the Keras model)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="write the summary as JSON here, and the curve PNG beside it (NAME_confidence.png)",
    )
    add_ambiguity_arguments(parser)

    @cli_main
    def run() -> int:
        args = parser.parse_args(argv)
        rule = rule_from_args(args)
        if args.out is not None:
            if args.out.is_dir():
                raise UserError(
                    f"{args.out}: is a folder; --out names the JSON file, e.g. {args.out / 'evaluation.json'}"
                )
            check_output_folder(args.out.parent, needed_bytes=2**20)
        for path in args.tflite:
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such .tflite model (run make convert first)")
        class_names = read_labels(args.labels or args.keras.parent / "labels.txt")
        model = load_keras_model(args.keras)
        width, height, channels = image_input_shape(model)
        evaluation = load_evaluation_set(args.data, class_names, width, height, channels)
        print(
            f"evaluate: {len(evaluation.labels)} images from {args.data} at {width}x{height}", file=sys.stderr
        )
        results = [keras_scores(model, evaluation.images)]
        results += [tflite_scores(path, evaluation.images) for path in args.tflite]
        summary = report(evaluation, results, reference=results[0].name, rule=rule)
        summary["data"] = str(args.data)
        summary["files"] = {"keras_float32": str(args.keras), **{p.stem: str(p) for p in args.tflite}}
        print(format_report(summary))
        if args.out:
            png = confidence_png_path(args.out)
            summary["files"]["confidence_png"] = str(png)
            curves = {r.name: model_curves(evaluation.labels, r.probabilities, rule) for r in results}
            title = f"Accuracy vs results kept ({len(evaluation.labels)} images from {args.data})"
            with staged_files(args.out.parent, [args.out.name, png.name]) as staging:  # both or neither
                atomic_write_bytes(staging / png.name, plot_confidence_curves(curves, title))
                atomic_write_text(staging / args.out.name, json.dumps(summary, indent=2) + "\n")
            print(f"wrote {args.out} and {png}")
        return 0

    return run()


if __name__ == "__main__":
    sys.exit(main())
