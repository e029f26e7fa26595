"""The --serve flags: the address to bind, the access token, the stream's frame rate and their checks."""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.errors import ParameterError, UserError

DEFAULT_HOST = "127.0.0.1"
MIN_TOKEN_CHARS = 16
_TOKEN_HINT = "make one with: python -c 'import secrets; print(secrets.token_urlsafe(24))'"


@dataclass(frozen=True)
class ServeOptions:
    """How the web view serves.

    Attributes:
      host: Address to bind (127.0.0.1: this machine only).
      port: TCP port (0: the system picks a free one, reported in the log).
      token: Every request must carry it (`Authorization: Bearer TOKEN` or `?token=TOKEN`); None:
        no token, allowed on a loopback address only.
      fps: Most JPEG frames a second on /stream.mjpg.
      max_streams: Most open /stream.mjpg and /events connections at once; more get 503.
      max_connections: Most connections of any kind at once; more are closed unanswered.
      send_timeout_s: A viewer that cannot take data for this long is dropped.
      jpeg_quality: 1-100.
    """

    host: str = DEFAULT_HOST
    port: int = 8080
    token: str | None = None
    fps: float = 10.0
    max_streams: int = 8
    max_connections: int = 32
    send_timeout_s: float = 5.0
    jpeg_quality: int = 75

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ParameterError("port", self.port, "must be 0 to 65535")
        if not self.fps > 0:
            raise ParameterError("fps", self.fps, "must be more than 0")
        if not 1 <= self.jpeg_quality <= 100:
            raise ParameterError("jpeg_quality", self.jpeg_quality, "must be 1 to 100")
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise UserError(
                f"--serve-token: the token has {len(self.token)} characters, fewer than {MIN_TOKEN_CHARS}; {_TOKEN_HINT}"
            )
        if self.token is None and not is_loopback(self.host):
            raise UserError(
                f"--serve {self.host}:{self.port}: binding an address other than this machine's own "
                f"(127.0.0.1) needs a token; add --serve-token-file PATH (or --serve-token TOKEN); {_TOKEN_HINT}"
            )


def is_loopback(host: str) -> bool:
    """True for 'localhost' and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_address(text: str) -> tuple[str, int]:
    """'8080' -> ('127.0.0.1', 8080); 'HOST:PORT'; '[IPv6]:PORT'.

    Raises:
      argparse.ArgumentTypeError: Not [HOST:]PORT.
    """
    host, sep, port = text.rpartition(":")
    if not sep:
        host = DEFAULT_HOST
    elif host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port.isdigit() or int(port) > 65535 or (sep and not host):
        raise argparse.ArgumentTypeError(f"{text!r} is not [HOST:]PORT, e.g. 8080 or 0.0.0.0:8080")
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r}: {host!r} is not an IP address; use 127.0.0.1, 0.0.0.0 (every interface) or one of this machine's addresses"
            ) from None
    return host, int(port)


def read_token_file(path: str) -> str:
    """The token in a file (its first line, spaces trimmed).

    Raises:
      UserError: The file cannot be read or is empty.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise UserError(
            f"--serve-token-file {path}: cannot read it ({err.strerror}); check the path and its permissions"
        ) from None
    except UnicodeDecodeError:
        raise UserError(
            f"--serve-token-file {path}: not a text file; put the token on its first line"
        ) from None
    token = lines[0].strip() if lines else ""
    if not token:
        raise UserError(
            f"--serve-token-file {path}: the file is empty; put the token on its first line; {_TOKEN_HINT}"
        )
    return token


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --serve, --serve-token, --serve-token-file and --serve-fps."""
    group = parser.add_argument_group("web view and metrics (docs/runtime.md#web-view-and-metrics)")
    group.add_argument(
        "--serve",
        type=parse_address,
        metavar="[HOST:]PORT",
        help="serve a live page, /stream.mjpg, /events, /metrics and /healthz (HOST 127.0.0.1 unless given; "
        "any other address needs a token; port 0: a free one)",
    )
    token = group.add_mutually_exclusive_group()
    token.add_argument(
        "--serve-token", metavar="TOKEN", help="required of every request (visible in ps: prefer the file)"
    )
    token.add_argument("--serve-token-file", metavar="PATH", help="file whose first line is the token")
    group.add_argument(
        "--serve-fps", type=float, default=10.0, metavar="F", help="most frames a second on the stream (10)"
    )


def options_from_args(args: argparse.Namespace) -> ServeOptions | None:
    """The ServeOptions of the parsed flags, or None without --serve.

    Raises:
      UserError: A token flag without --serve, an unreadable token file, a short token, or an address
        other than loopback without a token.
    """
    token = read_token_file(args.serve_token_file) if args.serve_token_file else args.serve_token
    if args.serve is None:
        if token is not None:
            raise UserError(
                "--serve-token and --serve-token-file need --serve [HOST:]PORT; add it or drop the token"
            )
        return None
    if not args.serve_fps > 0:
        raise UserError(f"--serve-fps {args.serve_fps:g}: must be more than 0, e.g. 10")
    host, port = args.serve
    return ServeOptions(host=host, port=port, token=token, fps=args.serve_fps)
