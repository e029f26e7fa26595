"""The user-error type and the CLI wrapper that turns it into one line and a non-zero exit."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable


class UserError(ValueError):
    """A mistake in the user's input (a path, a file, an option): reported as one line, no traceback."""


EXIT_USER_ERROR = 2


def cli_main(func: Callable[..., int | None]) -> Callable[..., int]:
    """Wraps a CLI entry point: a user's mistake prints `error: ...` on stderr and exits 2.

    UserError, FileNotFoundError and ValueError are the user's (bad paths, bad files, bad
    values); anything else is a bug and keeps its traceback.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> int:
        try:
            code = func(*args, **kwargs)
        except (UserError, FileNotFoundError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_USER_ERROR
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        return int(code or 0)

    return wrapper
