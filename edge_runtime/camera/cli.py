"""`python -m edge_runtime camera`: options, JSON lines, the status line, --display and signals."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from edge_runtime.ambiguity import add_ambiguity_arguments, rule_from_args
from edge_runtime.camera.output import JsonLines, StatusLine
from edge_runtime.camera.priority import PRIORITIES, set_priority
from edge_runtime.camera.serve.options import add_serve_arguments, options_from_args
from edge_runtime.delegate_args import add_delegate_arguments
from edge_runtime.model_labels import LABELS_BESIDE_MODEL

# The source or an inference failed mid-run, or the camera, stream or delegate's device was not
# ready at the start after the retries (DeviceNotReady): a systemd unit restarts on it. Mistakes
# in the options (missing model, unknown source) exit 2, which the unit does not restart.
EXIT_RUN_FAILED = 1


def _number(kind: type, minimum: float, inclusive: bool) -> Callable[[str], float]:
    """argparse type: a number of `kind` at least (or above) `minimum`."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__} number") from None
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(
                f"{value} must be {'at least' if inclusive else 'more than'} {minimum}"
            )
        return value

    return parse


def _size(text: str) -> tuple[int, int]:
    """argparse type: WIDTHxHEIGHT."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 640x480")
    return int(width), int(height)


def add_camera_parser(commands: argparse._SubParsersAction) -> None:
    """Adds the `camera` subcommand to the `python -m edge_runtime` parser."""
    count, positive = _number(int, 1, True), _number(float, 0, False)
    p = commands.add_parser("camera", help="classify a camera, video, stream or folder of images live")
    add = p.add_argument
    add("--model", required=True, metavar="M.tflite", help="the .tflite model")
    add(
        "--source",
        required=True,
        metavar="SOURCE",
        help="camera index (0), device (/dev/video0), picamera2[:N], video file, URL (rtsp://...) or folder",
    )
    add(
        "--threads",
        type=count,
        metavar="N",
        help="CPU threads of each interpreter (default: the usable cores shared among the workers)",
    )
    add("--workers", type=count, default=1, metavar="N", help="inference threads, one interpreter each (1)")
    add("--budget-ms", type=positive, default=33.0, metavar="MS", help="deadline after capture (33)")
    add("--top-k", type=count, default=3, metavar="K", help="classes per result (3)")
    add("--threshold", type=float, default=0.0, metavar="T", help="lowest score reported (0.0)")
    add_ambiguity_arguments(p)
    add("--display", action="store_true", help="show frames with label, score and FPS in a window")
    add("--jsonl", metavar="FILE|-", help="append one JSON object per result to FILE (- for stdout)")
    add(
        "--verify",
        action="store_true",
        help="first check the model's sha256 against model_card.json beside it",
    )
    add_delegate_arguments(p)
    add("--frames", type=count, metavar="N", help="stop after capturing N frames")
    add(
        "--priority",
        choices=PRIORITIES,
        default="normal",
        help="scheduling of the loop's threads: high = nice -10, realtime = SCHED_FIFO (Linux; root or "
        "CAP_SYS_NICE); fewer deadline misses when other programs share the cores (normal)",
    )
    add("--backend", metavar="NAME", help="ai_edge_litert, tflite_runtime or tensorflow (first installed)")
    add("--labels", help=f"labels file (default: the model's own, else {LABELS_BESIDE_MODEL} beside it)")
    add("--center-crop", action="store_true", help="crop frames to the model's aspect ratio")
    add(
        "--fps",
        type=_number(float, 0, True),
        metavar="F",
        help="pace of video files and folders (default: the video's own rate, 30 for folders; 0: every frame, "
        "none dropped, as fast as the workers go)",
    )
    add("--loop", action="store_true", help="restart a video file or folder at its end")
    add("--camera-size", type=_size, default=(640, 480), metavar="WxH", help="camera resolution (640x480)")
    add(
        "--retries",
        type=_number(int, 0, True),
        default=5,
        metavar="N",
        help="retries, with backoff, of a source that fails or of a camera, stream or delegate device "
        "that is not ready at the start; then exit 1 (5)",
    )
    add(
        "--status-interval",
        type=_number(float, 0, True),
        metavar="S",
        help="seconds between status lines (default: 1 on a terminal, 30 otherwise; 0: none)",
    )
    add(
        "--frame-timeout",
        type=positive,
        default=2.0,
        metavar="S",
        help="longest wait for one Picamera2 frame; a stalled camera then goes through --retries, then exit 1 (2)",
    )
    add_serve_arguments(p)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_camera(args: argparse.Namespace) -> int:
    """Runs the camera loop; prints the summary; 0 at the end of the source, a frame limit or a signal.

    Returns 1 (after the summary) when the source or an inference fails mid-run. A camera, stream
    or delegate device not ready at the start is retried with --retries' backoff, then raises
    DeviceNotReady (exit 1 through `cli_main`). SIGINT and SIGTERM are caught first of all, so one
    arriving while the model loads still ends the run with the summary and exit 0.
    """
    from edge_runtime.camera.signals import on_signals, stop_event

    stop = stop_event()  # set already if a signal came while the command started
    restore = on_signals(stop)
    try:
        return _run_camera(args, stop)
    finally:
        restore()


def _run_camera(args: argparse.Namespace, stop: threading.Event) -> int:
    """run_camera's body, with STOP already set by the signal handlers."""
    from edge_runtime.camera.capture import RetryPolicy, retry_until_ready
    from edge_runtime.camera.loop import LoopOptions, run_loop
    from edge_runtime.camera.overlay import Display, display_problem
    from edge_runtime.camera.sources import SourceOptions, open_source
    from edge_runtime.common import input_dtype, input_size, num_classes
    from edge_runtime.delegate_args import delegate_from_args
    from edge_runtime.edgetpu import compiled_for_edgetpu, is_library
    from edge_runtime.interpreter import backend_name, default_threads, make_interpreter
    from edge_runtime.model_labels import resolve_labels

    if args.verify:
        from edge_runtime.model_verify import verify_against_card

        _log(verify_against_card(args.model))
    serve = options_from_args(args)  # a mistake in the --serve flags stops us before the model loads
    status = StatusLine()
    interval = args.status_interval if args.status_interval is not None else (1.0 if status.tty else 30.0)
    options = LoopOptions(
        budget_ms=args.budget_ms,
        top_k=args.top_k,
        threshold=args.threshold,
        center_crop=args.center_crop,
        max_frames=args.frames,
        retries=args.retries,
        status_interval_s=interval,
        ambiguity=rule_from_args(args),
    )
    source_options = SourceOptions(
        fps=args.fps, loop=args.loop, camera_size=args.camera_size, frame_timeout_s=args.frame_timeout
    )
    retry = RetryPolicy(options.retries, options.backoff_s, options.max_backoff_s)
    choice = delegate_from_args(args)
    model_path = Path(args.model)
    threads = args.threads or default_threads(args.workers)
    priority = set_priority(args.priority)  # before the interpreters: their thread pools inherit it

    def make_interpreters() -> list:
        return [
            make_interpreter(
                model_path,
                num_threads=threads,
                backend=args.backend,
                delegate=choice.library,
                delegate_options=choice.options,
            )
            for _ in range(args.workers)
        ]

    interpreters = retry_until_ready(make_interpreters, retry, _log)
    if choice.library and is_library(choice.library) and not compiled_for_edgetpu(model_path.read_bytes()):
        _log(f"warning: {model_path} is not compiled for the Edge TPU (edgetpu_compiler); it runs on the CPU")
    classes = num_classes(interpreters[0])
    labels, labels_source = resolve_labels(model_path, args.labels, classes, warn=_log)
    display = None
    if args.display:
        problem = display_problem()
        if problem:
            _log(f"warning: --display: {problem}; running headless")
        else:
            display = Display()
            options = dataclasses.replace(options, keep_images=True)
    jsonl = JsonLines(args.jsonl, stop) if args.jsonl else None
    source = open_source(args.source, source_options, retry, _log)
    width, height = input_size(interpreters[0])
    _log(
        f"camera: {model_path} ({width}x{height} {input_dtype(interpreters[0])}, {classes} classes, "
        f"labels: {labels_source}), backend {backend_name(interpreters[0])}, delegate {choice.describe()}, "
        f"{args.workers} worker(s) x {threads} thread(s), source {source.name}, "
        f"budget {args.budget_ms:g} ms, priority {priority}, ambiguous when {options.ambiguity.describe()}; "
        "Ctrl-C stops"
    )
    recent: list[float] = []
    web = None

    def on_result(result) -> None:
        if jsonl is not None:
            jsonl.write(result.to_record())
        if display is not None and result.image is not None:
            recent.append(result.finished)
            del recent[: max(0, len(recent) - 30)]
            fps = (
                (len(recent) - 1) / (recent[-1] - recent[0])
                if len(recent) > 1 and recent[-1] > recent[0]
                else 0.0
            )
            if display.show(result.image, result.classes, fps, result.ambiguous):
                stop.set()

    try:
        if serve is not None:
            from edge_runtime.camera.serve.live import ModelInfo
            from edge_runtime.camera.serve.server import start_web_view

            info = ModelInfo(
                model_path.name, (width, height), str(input_dtype(interpreters[0])),
                tuple(labels or (f"class {i}" for i in range(classes))), backend_name(interpreters[0]),
                choice.describe(), args.workers, args.budget_ms,
            )  # fmt: skip
            web = start_web_view(serve, info, options, _log)
        tap = web.live if web is not None else None
        summary = run_loop(interpreters, source, options, labels, on_result, status.show, stop, _log, tap)
    finally:
        if web is not None:
            web.close()
        source.close()
        if jsonl is not None:
            jsonl.close()
        if display is not None:
            display.close()
        status.end()
    print(summary.text(), file=sys.stderr, flush=True)
    if summary.error:
        print(f"error: {summary.error}", file=sys.stderr, flush=True)
        return EXIT_RUN_FAILED
    return 0
