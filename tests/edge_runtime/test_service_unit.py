"""The example systemd unit: no `pi` user, installed with the documented line, restarts matching the exit codes."""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from edge_runtime.__main__ import build_parser
from edge_runtime.errors import EXIT_FAULT, EXIT_USER_ERROR

UNIT = REPO / "edge_runtime" / "camera" / "camera.service"


def settings(text: str) -> dict[str, str]:
    """The unit's KEY=VALUE settings, continuation lines joined, comments left out."""
    joined = text.replace("\\\n", " ")
    lines = [line for line in joined.splitlines() if line and not line.startswith(("#", "["))]
    return dict(line.split("=", 1) for line in lines)


def install_command() -> str:
    """The documented install line (docs/devices.md), without its `| sudo tee ...` part."""
    docs = (REPO / "docs" / "devices.md").read_text()
    [line] = [line for line in docs.splitlines() if line.startswith('sed -e "s|@USER@|')]
    assert line.endswith("| sudo tee /etc/systemd/system/edge-camera.service >/dev/null")
    assert line in UNIT.read_text().replace("\\\n#     ", "")  # the unit's own comment says the same
    return line.rpartition(" | sudo tee ")[0]


def installed(folder: Path) -> str:
    """The unit as the documented line writes it for a clone at FOLDER (the unit is copied there)."""
    (folder / UNIT.parent.relative_to(REPO)).mkdir(parents=True)
    shutil.copy(UNIT, folder / UNIT.relative_to(REPO))
    proc = subprocess.run(
        ["bash", "-c", f"cd {shlex.quote(str(folder))} && {install_command()}"],
        env={**os.environ, "PWD": str(folder)},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


def test_the_unit_names_no_pi_user_and_no_home_pi():
    text = UNIT.read_text()
    values = settings(text)
    assert values["User"] == "@USER@" and values["WorkingDirectory"] == "@DIR@"
    assert "/home/pi" not in text and "User=pi" not in text
    assert set(values["SupplementaryGroups"].split()) == {"video", "plugdev"}
    assert values["StateDirectory"] == "edge-camera"
    # Coral's apt package crashes current backends: the unit points to the pairings instead.
    assert "apt-get install libedgetpu1-std" not in text and "Coral: known-good runtime pairings" in text


def test_the_documented_install_line_fills_every_placeholder(tmp_path):
    clone = tmp_path / "edge image classifier"  # a space in the path too
    clone.mkdir()
    text = installed(clone)
    assert "@" not in "".join(line for line in text.splitlines() if not line.startswith("#"))
    values = settings(text)
    assert values["User"] == getpass.getuser() and values["WorkingDirectory"] == str(clone)
    assert shlex.split(values["ExecStart"])[0] == f"{clone}/.venv/bin/python"


def test_exec_start_parses_with_the_real_parser_and_restarts_match_the_exit_codes():
    values = settings(UNIT.read_text())
    argv = shlex.split(values["ExecStart"])
    assert argv[1:4] == ["-m", "edge_runtime", "camera"]
    args = build_parser().parse_args(argv[3:])
    assert args.model == "build/tflite/model_int8.tflite" and args.source == "0" and args.retries == 5
    assert values["Restart"] == "on-failure"  # exit 1, a device not ready, restarts
    assert values["RestartPreventExitStatus"].split() == [str(EXIT_USER_ERROR)]  # a mistake does not
    assert str(EXIT_FAULT) not in values["RestartPreventExitStatus"].split()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_installed_unit(tmp_path):
    """systemd's own checker: every key known, ExecStart's program there and executable."""
    clone = tmp_path / "my clone"
    (clone / ".venv" / "bin").mkdir(parents=True)
    (clone / ".venv" / "bin" / "python").symlink_to(sys.executable)
    unit = tmp_path / "edge-camera.service"
    unit.write_text(installed(clone))
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=120
    )
    ours = [line for line in (proc.stdout + proc.stderr).splitlines() if unit.name in line]
    assert proc.returncode == 0 and not ours, proc.stdout + proc.stderr
