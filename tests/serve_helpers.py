"""Web view test helpers: a headless Chromium driven over its DevTools pipe, and the camera CLI with --serve."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

SERVING = re.compile(r"serving on (http://[\d.]+:(\d+)/)")


def chromium_binary() -> str | None:
    """The system's Chromium (Debian: chromium), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


class Browser:
    """Headless Chromium over --remote-debugging-pipe (JSON messages ended by NUL on fds 3 and 4).

    The pipe needs no WebSocket client, and unlike --dump-dom it reads the page while it runs:
    the page keeps /events and /stream.mjpg open, so it never finishes loading.
    """

    def __init__(self, binary: str, width: int = 1100, height: int = 720) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # The child's ends, moved to 10 and up so that placing them on 3 and 4 clobbers nothing.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chrome_r, from_chrome_w)]
        for fd in (to_chrome_r, from_chrome_w):
            os.close(fd)

        def place() -> None:  # in the child: dup2 leaves 3 and 4 open across exec
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        self._proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--hide-scrollbars", f"--window-size={width},{height}", "about:blank"],
            close_fds=False, preexec_fn=place, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for fd in ends:
            os.close(fd)
        self._buffer, self._next_id, self._session = b"", 0, None

    def _call(self, method: str, timeout: float = 30.0, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if self._session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self._session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._next_id:
                    assert "error" not in answer, f"{method}: {answer['error']}"
                    return answer["result"]
            chunk = os.read(self._from_chrome, 1 << 16)
            assert chunk, "chromium closed its DevTools pipe"
            self._buffer += chunk
        raise AssertionError(f"{method}: no answer within {timeout} s")

    def open(self, url: str) -> None:
        """Opens `url` in a new tab and attaches to it."""
        target = self._call("Target.createTarget", url=url)["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page."""
        return self._call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get(
            "value"
        )

    def wait_for(self, expression: str, timeout: float = 20.0):
        """Evaluates `expression` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := self.evaluate(expression):
                return value
            time.sleep(0.2)
        raise AssertionError(f"{expression!r} stayed false for {timeout} s")

    def screenshot(self, path: Path) -> None:
        """Writes the page as a PNG."""
        import base64

        path.write_bytes(base64.b64decode(self._call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self._call("Browser.close", timeout=5)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            os.close(fd)


def start_serving(
    command: list[str], cwd: Path, env: dict, timeout: float = 60.0
) -> tuple[subprocess.Popen, str]:
    """Starts the camera CLI with --serve; returns the process and the URL from its 'serving on' line."""
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if match := SERVING.search(line):
            return proc, match[1]
    proc.kill()
    proc.wait()
    raise AssertionError("no 'serving on' line; stderr:\n" + "".join(seen) + proc.stderr.read())


def stop(proc: subprocess.Popen) -> str:
    """SIGTERM, then the rest of stderr (the summary)."""
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError("the camera did not stop within 30 s of SIGTERM:\n" + err) from None
    return err
