"""The user-error types and the CLI wrapper that turns them into one line and a non-zero exit."""

from __future__ import annotations

import errno
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping


class UserError(ValueError):
    """A mistake in the user's input (a path, a file, an option): reported as one line, no traceback."""


class DeviceNotReady(UserError):
    """A device that is absent, busy or not yet ready (a camera at boot, a Coral not yet enumerated).

    Not the user's configuration: `cli_main` reports it as one line and exits 1 (EXIT_FAULT), so a
    service manager restarts the program (the unit's RestartPreventExitStatus=2 keeps only true
    configuration mistakes down). Raise it only after the retries the caller owns have run out.
    """


class ParameterError(UserError):
    """A bad value for a library parameter, named as the library calls it (`min_runs=0: ...`).

    A command line wrapped by `cli_main` reports it under its flag instead (`--min-runs 0: ...`), so
    the library never has to know how a CLI spells its options.

    Attributes:
      parameter: The parameter's name in the library (a dataclass field or argument).
      value: The value refused.
      problem: What is wrong and what is expected, e.g. "must be 1 or more".
    """

    def __init__(self, parameter: str, value: object, problem: str) -> None:
        self.parameter, self.value, self.problem = parameter, value, problem
        super().__init__(f"{parameter}={_shown(value)}: {problem}")

    def for_flag(self, flag: str) -> str:
        """The message with the parameter spelled as the command line's FLAG."""
        return f"{flag} {_shown(self.value)}: {self.problem}"


def check_at_least(minimum: float, **values: float) -> None:
    """Raises ParameterError for the first of VALUES (parameter=value) below MINIMUM, or not a number.

    Raises:
      ParameterError: e.g. `rounds=0: must be 1 or more`.
    """
    for parameter, value in values.items():
        if not value >= minimum:
            raise ParameterError(parameter, value, f"must be {minimum:g} or more")


def _shown(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return repr(value) if isinstance(value, str) else str(value)


def flag_for(parameter: str, flags: Mapping[str, str] | None = None) -> str:
    """The flag for PARAMETER: FLAGS' entry, else `--` and the name with dashes (min_runs -> --min-runs)."""
    return (flags or {}).get(parameter) or "--" + parameter.replace("_", "-")


EXIT_USER_ERROR = 2
EXIT_FAULT = 1

# What to do about the operating system's refusals, by errno; the rest get the generic fix.
_OS_FIXES = {
    errno.ENOSPC: "free some space or choose a folder on another disk",
    errno.EDQUOT: "free some space (the disk quota is used up) or choose another folder",
    errno.EACCES: "check its permissions or choose another path",
    errno.EPERM: "check its permissions or choose another path",
    errno.EROFS: "the file system is read-only; choose another path",
    errno.ENOTDIR: "a file stands where the path needs a folder; choose another path",
    errno.EISDIR: "it is a folder; pass a file",
    errno.ENAMETOOLONG: "choose a shorter path",
    errno.ENOENT: "check the path",
}


def os_error_line(err: OSError) -> str:
    """One line for an OSError: the path, the system's words and the fix (`data: Permission denied; ...`)."""
    where = err.filename if err.filename is not None else None
    what = err.strerror or str(err)
    fix = _OS_FIXES.get(err.errno, "check the path and the device")
    if where is None:
        return f"{what}; {fix}" if err.strerror else str(err)
    if err.strerror is None:  # raised with a message of ours that already names the path
        return str(err)
    return f"{os.fspath(where)}: {what}; {fix}"


EXIT_INTERRUPTED = 130


class _Interrupts:
    """Ctrl-C seen by a command, even when the KeyboardInterrupt it raised was swallowed.

    Python prints "Exception ignored ... KeyboardInterrupt" and goes on when the signal lands in a
    finalizer or a callback of a native library; the command would then finish and exit 0 as if
    never interrupted. Counting the signal lets `cli_main` exit 130 all the same.
    """

    def __init__(self) -> None:
        self.count = 0

    def handler(self, signum, frame) -> None:
        self.count += 1
        raise KeyboardInterrupt

    @staticmethod
    def installable() -> bool:
        return (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )


def cli_main(
    func: Callable[..., int | None] | None = None, *, flags: Mapping[str, str] | None = None
) -> Callable[..., int]:
    """Wraps a CLI entry point: a user's mistake prints `error: ...` on stderr and exits 2.

    UserError, ValueError and OSError are the user's (bad paths, bad files, bad values, a full or
    read-only disk, permissions); a DeviceNotReady (absent, busy or stalled device, after its retries) exits 1 so a
    service manager restarts it; anything else is a bug and keeps its traceback. A ParameterError is reported under
    the CLI's flag: FLAGS maps the parameters whose flag is not `--` + the name with dashes
    (e.g. {"max_frames": "--frames"}). Use as `@cli_main` or `@cli_main(flags={...})`.
    """
    if func is None:
        return functools.partial(cli_main, flags=flags)

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> int:
        interrupts = _Interrupts()
        installed = _Interrupts.installable()
        if installed:
            signal.signal(signal.SIGINT, interrupts.handler)
        try:
            code = _run(func, flags, *args, **kwargs)
        finally:
            if installed:
                signal.signal(signal.SIGINT, signal.default_int_handler)
        if interrupts.count and code != EXIT_INTERRUPTED:  # swallowed on its way up: still an interruption
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        return code

    return wrapper


def _run(func: Callable[..., int | None], flags: Mapping[str, str] | None, *args, **kwargs) -> int:
    """Runs a CLI entry point, turning the user's mistakes into one line and an exit code (see cli_main)."""
    try:
        code = func(*args, **kwargs)
    except ParameterError as err:
        print(f"error: {err.for_flag(flag_for(err.parameter, flags))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except DeviceNotReady as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAULT
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAULT
    except FileNotFoundError as err:
        print(f"error: {os_error_line(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (UserError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as err:  # permission, no space, not a folder...: the user's environment, not a bug
        print(f"error: {os_error_line(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return int(code or 0)
