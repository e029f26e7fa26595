"""The capture thread: frames into the exchange, paced like a camera, a failing source retried with backoff.

Also `retry_until_ready`: the same backoff for a device that is not ready when the loop starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from edge_runtime.camera.exchange import FrameExchange
from edge_runtime.camera.preprocess import FramePreprocessor
from edge_runtime.camera.source_base import Source, SourceError
from edge_runtime.errors import DeviceNotReady

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How a source that stops delivering is retried.

    Attributes:
      retries: Attempts (each a wait, then a reopen and a read) before giving up.
      backoff_s: Wait before the first retry; doubled for each next one, up to `max_backoff_s`.
      max_backoff_s: Longest wait between retries.
    """

    retries: int = 5
    backoff_s: float = 0.1
    max_backoff_s: float = 2.0


def retry_until_ready(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    log: Callable[[str], None],
    fix: str = "",
) -> T:
    """ATTEMPT's result, calling it again with the policy's backoff while it raises DeviceNotReady
    or SourceError (a camera not there yet at boot, busy, a stream down, a Coral not yet enumerated).

    Args:
      attempt: Opens the device; raises DeviceNotReady or SourceError while it is not ready.
      policy: Retries and backoff, as for a source failing mid-run.
      log: Receives one warning per retry.
      fix: What to check, appended to the final error only (the warnings stay short).

    Raises:
      DeviceNotReady: Every attempt failed: the last error, how long it was tried and FIX. Other
        errors of ATTEMPT (a configuration mistake) propagate at once.
    """
    delay, waited = policy.backoff_s, 0.0
    for retry in range(policy.retries + 1):
        try:
            return attempt()
        except (DeviceNotReady, SourceError) as err:
            failure = err
        if retry == policy.retries:
            break
        log(f"warning: {failure}; retry {retry + 1} of {policy.retries} in {delay:.1f} s")
        time.sleep(delay)  # before the loop runs: Ctrl-C interrupts it, SIGTERM ends the process
        waited += delay
        delay = min(delay * 2, policy.max_backoff_s)
    tries = f"{policy.retries} retr{'y' if policy.retries == 1 else 'ies'}"
    gave_up = f"; gave up after {tries} over {waited:.1f} s" if policy.retries else ""
    raise DeviceNotReady(f"{failure}{gave_up}{f'; {fix}' if fix else ''}")


@dataclass
class CaptureEnd:
    """How capture ended: 'end of source', 'frame limit' or 'source error' (with the error), and
    how many frames the source skipped as undecodable (`Source.take_skipped`)."""

    reason: str = "end of source"
    error: str | None = None
    skipped: int = 0


def read_with_retries(
    source: Source,
    buffer: np.ndarray | None,
    policy: RetryPolicy,
    halt: threading.Event,
    log: Callable[[str], None],
) -> np.ndarray | None:
    """The next frame, retrying a failing source with exponential backoff.

    Returns:
      The frame; None at the end of a file or folder, or when `halt` is set while waiting.

    Raises:
      SourceError: The source cannot be retried, or every retry failed.
    """
    delay, waited, attempt = policy.backoff_s, 0.0, 0
    while True:
        try:
            return source.read(buffer)
        except SourceError as err:
            failure = err
        if not source.retryable or policy.retries == 0:
            raise failure
        while True:  # back off, reopen; a failed reopen is one more attempt
            if attempt == policy.retries:
                raise SourceError(f"{failure}; gave up after {policy.retries} retries over {waited:.1f} s")
            attempt += 1
            log(f"warning: {failure}; retry {attempt} of {policy.retries} in {delay:.1f} s")
            if halt.wait(delay):
                return None
            waited += delay
            delay = min(delay * 2, policy.max_backoff_s)
            try:
                source.reopen()
                break
            except SourceError as err:
                failure = err


def _capture_times(source: Source, now: float) -> tuple[float, float]:
    """The last frame's capture time as (time.monotonic(), time.time()): the source's stamp, else `now`."""
    wall = time.time() - (time.monotonic() - now)
    captured = source.captured_at()
    if captured is None:
        return now, wall
    return captured, wall - (now - captured)


def capture_frames(
    source: Source,
    exchange: FrameExchange,
    halt: threading.Event,
    max_frames: int | None,
    policy: RetryPolicy,
    log: Callable[[str], None],
    end: CaptureEnd,
    prepare: FramePreprocessor | None = None,
) -> None:
    """Capture thread body: reads frames into `exchange` until the source ends, `max_frames` or `halt`.

    Files and folders are paced at `source.fps`, as a camera would deliver them. Each frame is
    stamped with the source's own capture time where it has one (`Source.captured_at`), else when
    it was read. With `prepare`, each frame's model input is made here, into a pooled buffer,
    before it is published, so a worker only copies it into its interpreter: the preprocessing
    overlaps the previous frame's inference instead of following it. Always closes the exchange
    (draining the waiting frame) and records in `end` why it stopped.
    """
    count, start = 0, None
    try:
        while not halt.is_set():
            if max_frames is not None and count >= max_frames:
                end.reason = "frame limit"
                break
            image = read_with_retries(source, exchange.buffer(), policy, halt, log)
            for problem in source.take_skipped():
                end.skipped += 1
                log(f"warning: {problem}; frame skipped")
            if image is None:
                break
            if source.fps:
                now = time.monotonic()
                if start is None or now - (start + count / source.fps) > 1.0 / source.fps:
                    start = now - count / source.fps  # behind schedule: re-anchor, a camera never bursts
                delay = start + count / source.fps - now
                if delay > 0 and halt.wait(delay):
                    break
            read = time.monotonic()
            captured, captured_wall = _capture_times(source, read)
            rgb = prepared = None
            if prepare is not None:
                buffer = exchange.input_buffer()
                rgb = prepare(image, prepare.new_buffer() if buffer is None else buffer)
                prepared = time.monotonic()
            exchange.put(image, captured, captured_wall, source.frame_name(), rgb, read, prepared)
            count += 1
    except SourceError as err:
        end.reason, end.error = "source error", str(err)
    except Exception as err:  # a bug in a source must still end the run with the summary
        end.reason, end.error = "source error", f"{source.name}: {type(err).__name__}: {err}"
    finally:
        exchange.close(drain=True)
