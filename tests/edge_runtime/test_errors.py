"""A library's ParameterError names its parameter; a CLI wrapped by cli_main reports it under its flag."""

from __future__ import annotations

import contextlib
import errno
import signal

import pytest

from edge_runtime.camera.loop import LoopOptions
from edge_runtime.errors import (
    EXIT_FAULT,
    EXIT_INTERRUPTED,
    EXIT_USER_ERROR,
    DeviceNotReady,
    ParameterError,
    UserError,
    check_at_least,
    cli_main,
)


def test_the_library_names_the_parameter():
    with pytest.raises(ParameterError, match=r"^max_frames=0: must be 1 or more$") as caught:
        LoopOptions(max_frames=0)
    assert (caught.value.parameter, caught.value.value) == ("max_frames", 0)


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ({"max_frames": 0}, "error: --frames 0: must be 1 or more\n"),  # mapped: the flag has another name
        ({"budget_ms": -5}, "error: --budget-ms -5: must be more than 0\n"),  # derived: dashes
    ],
)
def test_the_cli_reports_it_under_its_flag(options, line, capsys):
    @cli_main(flags={"max_frames": "--frames"})
    def main() -> int:
        LoopOptions(**options)
        return 0

    assert main() == EXIT_USER_ERROR
    assert capsys.readouterr().err == line


def test_lists_and_strings_are_shown_as_typed():
    assert ParameterError("sizes", (96, 0), "sizes must be 1 or more").for_flag("--sizes") == (
        "--sizes 96,0: sizes must be 1 or more"
    )
    assert str(ParameterError("quantize", "int4", "not one of int8, float16")) == (
        "quantize='int4': not one of int8, float16"
    )


def test_the_camera_cli_names_the_source_flag(tiny_tflite, capsys):
    from edge_runtime.__main__ import main

    code = main(["camera", "--model", str(tiny_tflite["uint8"]), "--source", "picamera2:x"])
    assert code == EXIT_USER_ERROR
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: --source 'picamera2:x': the camera number after ':' must be a whole number"
    )


def test_minimums_name_the_first_value_below_them_and_refuse_nan():
    with pytest.raises(ParameterError, match=r"^backoff_s=-0.5: must be 0 or more$"):
        LoopOptions(retries=0, backoff_s=-0.5)
    with pytest.raises(ParameterError, match=r"^min_seconds=nan: must be 0 or more$"):
        check_at_least(0, min_runs=3, min_seconds=float("nan"))
    check_at_least(1, rounds=1, frames=2)  # at the minimum: accepted


def test_a_device_not_ready_exits_1_so_the_service_restarts_and_a_mistake_exits_2(capsys):
    @cli_main
    def absent() -> int:
        raise DeviceNotReady("camera 0: not found after 5 tries; check the cable")

    @cli_main
    def mistake() -> int:
        raise UserError("model.tflite: model file not found; check the path")

    assert absent() == EXIT_FAULT == 1
    assert capsys.readouterr().err == "error: camera 0: not found after 5 tries; check the cable\n"
    assert mistake() == EXIT_USER_ERROR == 2


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "out/model.tflite"),
            "error: out/model.tflite: No space left on device; free some space or choose a folder on another disk",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/srv/models"),
            "error: /srv/models: Permission denied; check its permissions or choose another path",
        ),
        (
            NotADirectoryError(errno.ENOTDIR, "Not a directory", "notes.txt/out"),
            "error: notes.txt/out: Not a directory; a file stands where the path needs a folder; choose another path",
        ),
        (
            IsADirectoryError(errno.EISDIR, "Is a directory", "labels"),
            "error: labels: Is a directory; it is a folder; pass a file",
        ),
        (
            FileNotFoundError("model.tflite: model file not found; check the path"),
            "error: model.tflite: model file not found; check the path",
        ),
    ],
    ids=["no-space", "permission", "not-a-folder", "is-a-folder", "our-own-message"],
)
def test_the_operating_systems_refusals_are_one_line_and_exit_2(error, line, capsys):
    @cli_main
    def refused() -> int:
        raise error

    assert refused() == EXIT_USER_ERROR
    assert capsys.readouterr().err == line + "\n"


def test_a_real_bug_keeps_its_traceback():
    @cli_main
    def buggy() -> int:
        raise KeyError("internal")

    with pytest.raises(KeyError):
        buggy()


def test_a_ctrl_c_swallowed_on_its_way_up_still_exits_130(capsys):
    """As when the KeyboardInterrupt lands in a native library's callback ("Exception ignored ...")."""

    @cli_main
    def swallows() -> int:
        with contextlib.suppress(KeyboardInterrupt):  # lost, as Python loses it in a finalizer
            signal.raise_signal(signal.SIGINT)
        return 0

    assert swallows() == EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back for the next command


def test_a_ctrl_c_that_reaches_the_wrapper_is_one_line_and_130(capsys):
    @cli_main
    def interrupted() -> int:
        signal.raise_signal(signal.SIGINT)
        return 0

    assert interrupted() == 130
    assert capsys.readouterr().err == "interrupted\n"
