"""The camera loop: a capture thread keeping only the newest frame, and workers with one interpreter each."""

from __future__ import annotations

import dataclasses
import gc
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from edge_runtime.ambiguity import AmbiguityRule, judge
from edge_runtime.camera.capture import CaptureEnd, RetryPolicy, capture_frames
from edge_runtime.camera.exchange import Counts, FrameExchange
from edge_runtime.camera.frame_result import Result
from edge_runtime.camera.gc_pauses import GcPauses
from edge_runtime.camera.preprocess import FramePreprocessor
from edge_runtime.camera.sources import Source
from edge_runtime.camera.stats import LoopStats, Summary
from edge_runtime.classify import get_classes_from_scores
from edge_runtime.common import get_scores, input_size, set_input
from edge_runtime.errors import ParameterError, check_at_least


@dataclass(frozen=True)
class LoopOptions:
    """How the loop runs.

    Attributes:
      budget_ms: A result later than this after its frame's capture is a deadline miss.
      top_k: Classes per result.
      threshold: Lowest score kept.
      center_crop: Crop frames to the model's aspect ratio instead of stretching them.
      max_frames: Stop after capturing this many frames (None: until the source ends or a stop).
      retries: Attempts to recover a source that stops delivering, before giving up.
      backoff_s: Wait before the first retry; doubled for each next one, up to `max_backoff_s`.
      max_backoff_s: Longest wait between retries.
      keep_images: Attach a copy of each processed frame to its result (for a display).
      status_interval_s: Seconds between status callbacks (0: none).
      ambiguity: When a result is marked ambiguous (see edge_runtime.ambiguity).
    """

    budget_ms: float = 33.0
    top_k: int = 3
    threshold: float = 0.0
    center_crop: bool = False
    max_frames: int | None = None
    retries: int = 5
    backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    keep_images: bool = False
    status_interval_s: float = 1.0
    ambiguity: AmbiguityRule = field(default_factory=AmbiguityRule)

    def __post_init__(self) -> None:
        if not self.budget_ms > 0:
            raise ParameterError("budget_ms", self.budget_ms, "must be more than 0")
        check_at_least(1, top_k=self.top_k)
        if self.max_frames is not None:
            check_at_least(1, max_frames=self.max_frames)
        check_at_least(
            0, retries=self.retries, backoff_s=self.backoff_s, max_backoff_s=self.max_backoff_s,
            status_interval_s=self.status_interval_s,
        )  # fmt: skip


def warm_up(interpreter: Any) -> float:
    """Runs one inference on a grey image and returns its milliseconds.

    The first inference is slow (an Edge TPU loads the model onto the device, XNNPACK packs its
    weights), so it runs before the clock starts and stays out of the statistics.
    """
    width, height = input_size(interpreter)
    set_input(interpreter, np.full((height, width, 3), 128, np.uint8))
    start = time.perf_counter()
    interpreter.invoke()
    return (time.perf_counter() - start) * 1000.0


class LoopTap(Protocol):
    """An observer of a run (the web view of edge_runtime.camera.serve): the counters, some frames, every result.

    `wants_image` is asked by the workers for each frame, so it must be cheap and never block; the
    frame it asks for is handed over with the result (the worker does not copy it; capture reads the
    next frame into a new buffer instead of this one). `add` is called on the loop's thread.
    """

    def attach(self, counts: Callable[[], Counts]) -> None: ...

    def wants_image(self) -> bool: ...

    def add(self, result: Result) -> None: ...


class _Run:
    """The shared state of one run: the exchange, the stop flag and how it ended."""

    def __init__(self, workers: int, lossless: bool = False) -> None:
        self.exchange = FrameExchange(pool_size=workers + 2, lossless=lossless)
        self.halt = threading.Event()
        self.capture_end = CaptureEnd()
        self.worker_errors: list[str] = []


def _work(
    index: int,
    interpreter: Any,
    run: _Run,
    options: LoopOptions,
    labels: Sequence[str] | None,
    tap: LoopTap | None = None,
) -> None:
    """Worker thread: copy the frame's model input in (made on the capture thread), invoke, top-k and
    ambiguity for each frame it takes, on its own interpreter."""
    exchange = run.exchange
    while (frame := exchange.take()) is not None:
        try:
            taken = time.monotonic()
            start = time.perf_counter()
            image = frame.image.copy() if options.keep_images else None
            if image is None and tap is not None and tap.wants_image():
                image = frame.image  # handed over, not copied: kept out of the buffer pool
            else:
                exchange.recycle(frame.image)
            set_input(interpreter, frame.rgb)  # run_loop's capture thread always makes it
            exchange.recycle_input(frame.rgb)
            invoked = time.perf_counter()
            interpreter.invoke()
            done = time.perf_counter()
            scores = get_scores(interpreter)
            classes = tuple(get_classes_from_scores(scores, options.top_k, options.threshold, labels))
            confidence = judge(scores, options.ambiguity)
            finished, finished_wall = time.monotonic(), time.time()
        except Exception as err:  # e.g. an Edge TPU unplugged mid-run: end the run, keep the counts
            run.worker_errors.append(f"worker {index}: frame {frame.id}: {type(err).__name__}: {err}")
            exchange.finish(frame.id, None)
            run.halt.set()
            continue
        latency_ms = (finished - frame.captured) * 1000.0
        result = Result(
            frame_id=frame.id,
            captured=frame.captured,
            captured_wall=frame.captured_wall,
            finished=finished,
            finished_wall=finished_wall,
            classes=classes,
            missed=latency_ms > options.budget_ms,
            worker=index,
            preprocess_ms=(frame.prepared - frame.read + invoked - start) * 1000.0,
            inference_ms=(done - invoked) * 1000.0,
            capture_ms=max(0.0, frame.read - frame.captured) * 1000.0,
            queue_ms=max(0.0, taken - frame.prepared) * 1000.0,
            image=image,
            ambiguous=confidence.ambiguous,
            margin=confidence.margin,
            source=frame.name,
        )
        exchange.finish(frame.id, result)


def run_loop(
    interpreters: Sequence[Any],
    source: Source,
    options: LoopOptions | None = None,
    labels: Sequence[str] | None = None,
    on_result: Callable[[Result], None] | None = None,
    on_status: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    log: Callable[[str], None] | None = None,
    tap: LoopTap | None = None,
) -> Summary:
    """Classifies a source's frames until it ends, `max_frames` are captured or `stop` is set.

    Args:
      interpreters: One interpreter per worker thread (an interpreter is not thread-safe), tensors
        allocated, all for the same model.
      source: From `edge_runtime.camera.sources.open_source`.
      options: Budget, top-k, cropping, limits and retries.
      labels: Class names, one per model output, or None.
      on_result: Called with each result in frame order, on the calling thread.
      on_status: Called with a status line every `status_interval_s`, on the calling thread.
      stop: Set it (e.g. from a signal handler) to end the run after the frames in progress.
      log: Receives warnings such as source retries (default: ignored).
      tap: An observer such as the web view (`--serve`): sees the counters and every result
        (before `on_result`) and is handed the frames it asks for.

    Returns:
      The summary; `error` says why the run failed, if it did (a source that stopped delivering,
      a failing inference).

    Raises:
      ValueError: No interpreters, or interpreters of different input sizes.
    """
    options = options or LoopOptions()
    if not interpreters:
        raise ValueError("run_loop needs at least one interpreter")
    if len({input_size(interpreter) for interpreter in interpreters}) != 1:
        raise ValueError("all interpreters must run the same model (their input sizes differ)")
    log = log or (lambda message: None)
    warmups = tuple(warm_up(interpreter) for interpreter in interpreters)
    width, height = input_size(interpreters[0])
    # Files and folders read unpaced (--fps 0) are classified frame by frame, none dropped.
    lossless = not source.live and not source.fps
    run, stats = _Run(len(interpreters), lossless), LoopStats(options.budget_ms)
    threads = [
        threading.Thread(
            target=_work, args=(i, it, run, options, labels, tap), name=f"worker-{i}", daemon=True
        )
        for i, it in enumerate(interpreters)
    ]
    policy = RetryPolicy(options.retries, options.backoff_s, options.max_backoff_s)
    capture = threading.Thread(
        target=capture_frames,
        args=(
            source,
            run.exchange,
            run.halt,
            options.max_frames,
            policy,
            log,
            run.capture_end,
            FramePreprocessor(width, height, options.center_crop),
        ),  # fmt: skip
        name="capture",
        daemon=True,
    )
    if tap is not None:
        tap.attach(run.exchange.counts)
    # Everything made so far (the model, the interpreters, imported modules) will live as long as
    # the run: frozen out of the collector's scans, so a collection during the run is short.
    gc.collect()
    gc.freeze()
    pauses = GcPauses().install()
    start = time.monotonic()
    next_status = start + options.status_interval_s
    for thread in (*threads, capture):
        thread.start()
    try:
        while True:
            if stop is not None and stop.is_set():
                run.halt.set()
            if run.halt.is_set():
                run.exchange.close(drain=False)
            results, finished = run.exchange.ready_results(timeout=0.05)
            for result in results:
                gc_ms = pauses.overlap_ms(result.captured, result.finished) if result.missed else 0.0
                cause = stats.add(result, gc_ms)
                if cause is not None:
                    result = dataclasses.replace(result, miss_cause=cause)
                if tap is not None:
                    tap.add(result)
                if on_result is not None:
                    on_result(result)
            now = time.monotonic()
            if on_status is not None and options.status_interval_s and now >= next_status:
                on_status(stats.status(run.exchange.counts(), now))
                next_status = now + options.status_interval_s
            if finished:
                break
    finally:
        run.halt.set()
        run.exchange.close(drain=False)
        for thread in threads:
            thread.join()
        capture.join(timeout=2.0)
        pauses.remove()
        gc.unfreeze()
    elapsed = time.monotonic() - start
    reason, error = run.capture_end.reason, run.capture_end.error
    if run.worker_errors:
        reason, error = "worker error", run.worker_errors[0]
    elif stop is not None and stop.is_set() and error is None:
        reason = "stopped"
    summary = stats.summary(run.exchange.counts(), elapsed, warmups, reason, error)
    return dataclasses.replace(
        summary,
        skipped=run.capture_end.skipped,
        gc_collections=pauses.count,
        gc_pause_ms=(pauses.total_ms, pauses.max_ms),
    )
