"""`python -m edge_runtime doctor [--json] [--measure MODEL]`: gathers this device's facts and runs every check."""

from __future__ import annotations

import argparse
import ctypes.util
import importlib.util
import os
import platform
import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.doctor import camera, cpu, edgetpu, packages, resources
from edge_runtime.doctor.check import Check
from edge_runtime.doctor.platform_info import check_platform, parse_os_release, read_text
from edge_runtime.doctor.probe import ProbeResult, run_probe
from edge_runtime.doctor.report import exit_code, json_report, text_report


@dataclass(frozen=True)
class DoctorOptions:
    """What `doctor` was asked.

    Attributes:
      as_json: Print one JSON object instead of the text lines.
      measure: An int8 model to time on this device, or None.
      measure_float: The float model to compare it with; None = its sibling (model_float32.tflite /
        model_float16.tflite beside a model_int8.tflite).
    """

    as_json: bool = False
    measure: Path | None = None
    measure_float: Path | None = None


@dataclass(frozen=True)
class DeviceRoots:
    """Where the doctor reads the system from; tests point these at a fake tree.

    Attributes:
      proc: /proc (cpuinfo, meminfo, device-tree).
      sys: /sys (video4linux names, USB devices).
      dev: /dev (video nodes, apex nodes, USB nodes).
      etc: /etc (os-release).
    """

    proc: Path = Path("/proc")
    sys: Path = Path("/sys")
    dev: Path = Path("/dev")
    etc: Path = Path("/etc")


def add_doctor_parser(commands: argparse._SubParsersAction) -> None:
    """Adds the `doctor` subcommand to the runtime's command line."""
    doctor = commands.add_parser(
        "doctor",
        help="what this device has (Python, backend, numpy, cameras, Edge TPU, CPU int8, memory) and what to fix",
        description="One line a check with a verdict (ok, info, warn, fail) and the fix. Exit 0 unless a "
        "check fails (1); 2 for a bad option.",
    )
    doctor.add_argument("--json", action="store_true", help="print one JSON object (checks with their facts)")
    doctor.add_argument(
        "--measure",
        metavar="MODEL",
        help="time this int8 model and its float sibling here and say which to deploy (a few hundred invokes)",
    )
    doctor.add_argument(
        "--measure-float",
        metavar="PATH",
        help="the float model to compare with (default: model_float32/float16.tflite beside MODEL)",
    )


def run_doctor(args: argparse.Namespace) -> int:
    """Runs the checks and prints the report; returns the exit code (0, or 1 when a check fails)."""
    from edge_runtime.errors import UserError

    if args.measure_float and not args.measure:
        raise UserError("--measure-float needs --measure MODEL (the int8 model to compare it with)")
    options = DoctorOptions(
        as_json=args.json,
        measure=Path(args.measure) if args.measure else None,
        measure_float=Path(args.measure_float) if args.measure_float else None,
    )
    checks = run_checks(options)
    print(json_report(checks) if options.as_json else text_report(checks), flush=True)
    return exit_code(checks)


def _may_open(node: str) -> bool:
    """This user may read and write NODE (a node that is not there yet is no permission problem)."""
    return os.access(node, os.R_OK | os.W_OK) or not os.path.exists(node)


def _version(distribution: str) -> str | None:
    found = packages.installed_versions([distribution])
    return found.get(distribution)


def run_checks(
    options: DoctorOptions,
    roots: DeviceRoots = DeviceRoots(),
    *,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
    ldconfig_text: Callable[[], str | None] = edgetpu.run_ldconfig,
    library_paths: tuple[Path, ...] = edgetpu.COMMON_PATHS,
    python: str = sys.executable,
    extra_path: tuple[str, ...] = (),
) -> list[Check]:
    """Every check, in report order. The keyword arguments replace what tests cannot have for real."""
    from edge_runtime.interpreter import BACKENDS, default_threads, read_model

    models = []
    if options.measure is not None:
        read_model(options.measure)  # a bad path is the user's mistake: one error line, exit 2, first
        floats = [options.measure_float] if options.measure_float else []
        for path in floats:
            read_model(path)

    backends = {
        name: _version(name.replace("_", "-"))
        for name in BACKENDS
        if importlib.util.find_spec(name) is not None
    }
    first = next(iter(backends), None)
    library = edgetpu.find_libedgetpu(find_library, ldconfig_text(), library_paths)

    def probe(*args: str) -> ProbeResult:
        return run_probe(args, python=python, extra_path=extra_path)

    jobs = {
        "numpy": ("import", "numpy"),
        "pillow": ("import", "PIL"),
        "cv2": ("import", "cv2"),
        "picamera2": ("import", "picamera2"),
    }
    if first and first != "tensorflow":  # the doctor never imports TensorFlow
        jobs["backend"] = ("import", f"{first}.interpreter")
    if library:
        jobs["edgetpu"] = ("edgetpu", library)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(probe, *job) for key, job in jobs.items()}
        probes = {key: future.result() for key, future in futures.items()}

    os_release = parse_os_release(read_text(roots.etc / "os-release") or "")
    board = read_text(roots.proc / "device-tree" / "model")
    on_pi = bool(board and board.startswith("Raspberry Pi"))
    prefix, base_prefix = Path(sys.prefix), Path(sys.base_prefix)
    system_dirs = packages.base_site_dirs(base_prefix, sys.version_info[:2])

    checks = [
        check_platform(tuple(sys.version_info[:3]), platform.system(), platform.machine(), os_release, board),
        packages.check_backend(backends, probes.get("backend")),
        packages.check_numpy(probes["numpy"], prefix, base_prefix, system_dirs),
        packages.check_opencv(packages.installed_versions(packages.OPENCV_DISTRIBUTIONS), probes["cv2"]),
        packages.check_pillow(probes["pillow"]),
        *camera.check_picamera2(
            probes["picamera2"], _version("picamera2"), on_pi, camera.find_system_picamera2(system_dirs)
        ),
        camera.check_v4l2(camera.v4l2_nodes(roots.dev, roots.sys)),
    ]

    build = edgetpu.library_build(*(edgetpu.dpkg_owner(library) or (None, None))) if library else None
    usb, pcie = edgetpu.coral_devices(roots.sys, roots.dev)
    checks.append(
        edgetpu.check_library(library, probes.get("edgetpu"), build or edgetpu.library_build(None, None))
    )
    checks.append(edgetpu.check_devices(usb, pcie, _may_open, bool(library)))
    if library and build is not None:
        checks.append(edgetpu.check_pairings(build, backends))

    cpu_info = cpu.parse_cpuinfo(read_text(roots.proc / "cpuinfo") or "")
    checks.append(cpu.check_cpu(cpu_info))
    model_bytes = options.measure.stat().st_size if options.measure else 0
    checks.append(
        resources.check_memory(resources.parse_meminfo(read_text(roots.proc / "meminfo") or ""), model_bytes)
    )
    where = options.measure.resolve().parent if options.measure else Path.cwd()
    usage = shutil.disk_usage(where)
    checks.append(resources.check_disk(where, usage.free, usage.total))

    if options.measure is not None:
        from edge_runtime.doctor.measure import check_integrity, check_measure, float_siblings, time_model

        checks.append(check_integrity(options.measure))
        threads = default_threads()
        floats = [options.measure_float] if options.measure_float else float_siblings(options.measure)
        models = [time_model(path, threads) for path in (options.measure, *floats)]
        checks.append(check_measure(models[0], models[1:], cpu_info))
    return checks
