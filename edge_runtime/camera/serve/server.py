"""The HTTP server beside the loop: routes, the token check, bounded clients; read-only, no file system access."""

from __future__ import annotations

import errno
import hmac
import json
import math
import secrets
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from edge_runtime.camera.loop import LoopOptions
from edge_runtime.camera.serve import metrics, mjpeg, page
from edge_runtime.camera.serve.live import LiveView, ModelInfo, Snapshot
from edge_runtime.camera.serve.options import ServeOptions, is_loopback
from edge_runtime.errors import UserError

KEEPALIVE_S = 15.0  # an SSE comment this often keeps proxies from closing an idle /events
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def stall_seconds(retries: int, backoff_s: float, max_backoff_s: float) -> float:
    """How long without a result before /healthz says 503: the loop's own retries plus 2 s, at least 5 s.

    A source that stops delivering is first retried by the loop (waits of backoff_s doubling up to
    max_backoff_s); if that fails the run ends with exit 1 and systemd restarts it. /healthz reports
    what the loop cannot see itself: no result for longer than those retries take, e.g. a camera
    read or an accelerator that hangs.
    """
    total, delay = 0.0, backoff_s
    for _ in range(retries):
        total, delay = total + delay, min(delay * 2, max_backoff_s)
    return max(5.0, total + 2.0)


def health(snapshot: Snapshot, stall_s: float) -> tuple[bool, str]:
    """(healthy, why) for /healthz."""
    if not snapshot.running:
        return False, "not running (starting, or the loop ended)"
    if snapshot.seconds_since_result > stall_s:
        return False, f"stalled: no result for {snapshot.seconds_since_result:.1f} s (limit {stall_s:g} s)"
    return True, f"ok: last result {snapshot.seconds_since_result:.2f} s ago"


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def _host_name(header: str) -> str:
    """The name in a Host header, without the port: 'localhost:8080' -> 'localhost', '[::1]:80' -> '[::1]'."""
    if header.startswith("["):
        return header.partition("]")[0] + "]"
    return header.partition(":")[0]


class _Server(ThreadingHTTPServer):
    """A ThreadingHTTPServer that refuses connections beyond `max_connections` and knows the view."""

    daemon_threads = True

    def __init__(
        self,
        options: ServeOptions,
        live: LiveView,
        publisher: mjpeg.JpegPublisher,
        stall_s: float,
        stopping: threading.Event,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
        self.options, self.live, self.publisher, self.stall_s = options, live, publisher, stall_s
        self.stopping = stopping
        self.slots = threading.BoundedSemaphore(options.max_connections)
        self.streams = threading.BoundedSemaphore(options.max_streams)
        super().__init__((options.host, options.port), _Handler)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # too many connections: closed unanswered
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "edge_runtime"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.timeout = self.server.options.send_timeout_s  # reads and writes: a stuck client is dropped
        super().setup()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: a request log would carry tokens
        pass

    def _authorized(self, query: dict[str, list[str]]) -> bool:
        token = self.server.options.token
        if token is None:
            # Loopback without a token: refuse other Host names, so a web page cannot reach this
            # server through a name it points at 127.0.0.1 (DNS rebinding).
            host = _host_name(self.headers.get("Host") or "")
            return host in _LOOPBACK_NAMES or is_loopback(host)
        header = self.headers.get("Authorization") or ""
        given = header[7:].strip() if header[:7].lower() == "bearer " else (query.get("token") or [""])[0]
        return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _text(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8", headers)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if not self._authorized(query):
            self._text(HTTPStatus.UNAUTHORIZED, "401: a token is needed (Authorization: Bearer TOKEN or ?token=TOKEN)\n",
                       {"WWW-Authenticate": 'Bearer realm="edge_runtime"'})  # fmt: skip
            return
        route = {
            "/": self._page,
            "/index.html": self._page,
            "/metrics": self._metrics,
            "/healthz": self._health,
            "/status.json": self._status,
            "/events": self._events,
            "/stream.mjpg": self._stream,
        }.get(url.path)
        if route is None:
            self._text(HTTPStatus.NOT_FOUND, f"404: no {url.path} here; try /, /metrics or /healthz\n")
            return
        route()

    do_HEAD = do_GET

    def _refuse_method(self) -> None:
        self._text(HTTPStatus.METHOD_NOT_ALLOWED, "405: read-only; GET or HEAD\n", {"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def _page(self) -> None:
        nonce = secrets.token_urlsafe(16)
        body = page.render(self.server.live.model, nonce).encode("utf-8")
        self._send(HTTPStatus.OK, body, "text/html; charset=utf-8", {
            "Content-Security-Policy": page.CSP.format(nonce=nonce), "X-Frame-Options": "DENY",
        })  # fmt: skip

    def _metrics(self) -> None:
        live = self.server.live
        text = metrics.render(live.snapshot(), live.model, live.viewers, live.started_wall)
        self._send(HTTPStatus.OK, text.encode("utf-8"), metrics.CONTENT_TYPE)

    def _health(self) -> None:
        ok, why = health(self.server.live.snapshot(), self.server.stall_s)
        self._text(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, why + "\n")

    def _status(self) -> None:
        s = self.server.live.snapshot()
        ok, _ = health(s, self.server.stall_s)
        record = {
            "captured": s.counts.captured, "processed": s.counts.processed, "dropped": s.counts.dropped,
            "missed": s.missed, "ambiguous": s.ambiguous, "fps": round(s.fps, 2),
            "latency_p50_ms": _finite(s.latency_p50_ms), "latency_p99_ms": _finite(s.latency_p99_ms),
            "last_frame": s.last_frame, "uptime_s": round(s.uptime_s, 1), "healthy": ok, "running": s.running,
        }  # fmt: skip
        self._send(HTTPStatus.OK, json.dumps(record).encode("utf-8"), "application/json")

    def _stream_headers(self, content_type: str) -> bool:
        """Starts a streaming answer; False (503 sent) when the streaming clients are all taken."""
        if not self.server.streams.acquire(blocking=False):
            self._text(HTTPStatus.SERVICE_UNAVAILABLE, "503: too many viewers; close another one\n")
            return False
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        return True

    def _events(self) -> None:
        """One `data:` JSON line per result (the --jsonl fields), from the newest one on."""
        if not self._stream_headers("text/event-stream; charset=utf-8"):
            return
        live, stopping = self.server.live, self.server.stopping
        try:
            if self.command == "HEAD":
                return
            with live.changed:
                seen = max(0, live.latest_sequence() - 1)  # the newest result first, at once
            quiet_since = time.monotonic()
            while not stopping.is_set():
                with live.changed:
                    results = live.results_after(seen)
                    if not results:
                        live.changed.wait(0.5)
                        results = live.results_after(seen)
                if results:
                    seen = results[-1][0]
                    chunk = "".join(
                        f"id: {r.frame_id}\ndata: {json.dumps(r.to_record())}\n\n" for _, r in results
                    )
                    self.wfile.write(chunk.encode("utf-8"))
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > KEEPALIVE_S:
                    self.wfile.write(b": keep-alive\n\n")
                    quiet_since = time.monotonic()
        except OSError:  # the viewer left or was too slow (send timeout)
            pass
        finally:
            self.server.streams.release()

    def _stream(self) -> None:
        """MJPEG: the annotated frames, at most --serve-fps a second, only while someone watches."""
        if not self._stream_headers(mjpeg.CONTENT_TYPE):
            return
        live, publisher = self.server.live, self.server.publisher
        try:
            if self.command == "HEAD":
                return
            with live.changed:
                live.viewers += 1
            for jpeg in publisher.frames(publisher.current()):  # ends when the server stops
                if jpeg is not None:
                    self.wfile.write(mjpeg.part(jpeg))
        except OSError:
            pass
        finally:
            if self.command != "HEAD":
                with live.changed:
                    live.viewers -= 1
            self.server.streams.release()


class WebView:
    """The running server: `start` binds and serves on background threads, `close` ends it.

    Args:
      options: Address, token, frame rate and limits.
      live: The loop's tap (pass it to run_loop).
      stall_s: /healthz answers 503 after this long without a result (see `stall_seconds`).
    """

    def __init__(self, options: ServeOptions, live: LiveView, stall_s: float) -> None:
        self.options, self.live, self.stall_s = options, live, stall_s
        self._stop = threading.Event()
        self._publisher = mjpeg.JpegPublisher(live, options.jpeg_quality, self._stop)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """http://HOST:PORT/ with the port actually bound."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def start(self) -> str:
        """Binds and starts serving; returns the URL.

        Raises:
          UserError: The port is in use, or the address is not one of this machine's.
        """
        o = self.options
        try:
            self._server = _Server(o, self.live, self._publisher, self.stall_s, self._stop)
        except OSError as err:
            where = f"--serve {f'[{o.host}]' if ':' in o.host else o.host}:{o.port}"
            if err.errno == errno.EADDRINUSE:
                raise UserError(
                    f"{where}: the port is in use by another program; pick another port (0: any free one)"
                ) from None
            if err.errno == errno.EACCES:
                raise UserError(
                    f"{where}: ports below 1024 need root; use a port of 1024 or more, e.g. 8080"
                ) from None
            raise UserError(
                f"{where}: cannot listen there ({err.strerror}); use 127.0.0.1, 0.0.0.0 or one of this machine's addresses"
            ) from None
        self._publisher.start()
        self._thread = threading.Thread(target=self._serve, name="serve-http", daemon=True)
        self._thread.start()
        return self.url

    def _serve(self) -> None:
        mjpeg.lower_priority()  # inherited by each request's thread
        assert self._server is not None
        self._server.serve_forever(poll_interval=0.25)

    def close(self) -> None:
        """Ends the streams, stops serving and closes the socket."""
        self.live.stop()
        self._stop.set()
        self._publisher.wake()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._publisher.join(2.0)


def log_line(url: str, options: ServeOptions) -> str:
    """The log line announcing the server (never the token itself)."""
    if options.token:
        return f"serving on {url} (token required: Authorization: Bearer TOKEN, or open {url}?token=TOKEN)"
    return f"serving on {url}"


def start_web_view(
    options: ServeOptions, model: ModelInfo, loop: LoopOptions, log: Callable[[str], None]
) -> WebView:
    """Starts the web view of a run with these loop options; logs 'serving on URL'.

    Raises:
      UserError: The port is in use, or the address cannot be bound.
    """
    live = LiveView(model, frame_interval_s=1.0 / options.fps)
    web = WebView(options, live, stall_seconds(loop.retries, loop.backoff_s, loop.max_backoff_s))
    log(log_line(web.start(), options))
    return web
