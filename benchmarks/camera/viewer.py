"""One viewer of `camera --serve`, in its own process: reads /stream.mjpg and /events until SIGTERM, then prints counts."""

from __future__ import annotations

import json
import signal
import sys
import threading
import urllib.request


def _read(url: str, marker: bytes, counts: dict, key: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=30) as stream:
            for line in stream:
                if line.startswith(marker):
                    counts[key] += 1
    except OSError:
        pass


def main(base: str) -> int:
    """Watches `base` (http://HOST:PORT/) as the page does: the MJPEG stream and the events."""
    counts = {"jpegs": 0, "events": 0}
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    for path, marker, key in (("stream.mjpg", b"--frame", "jpegs"), ("events", b"data: ", "events")):
        threading.Thread(target=_read, args=(base + path, marker, counts, key), daemon=True).start()
    print("watching", flush=True)
    done.wait()
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
