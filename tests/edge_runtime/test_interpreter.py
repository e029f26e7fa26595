"""Tests for edge_runtime.interpreter: backends, model checks, delegates, error messages."""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO  # noqa: E402
from edge_runtime.common import get_scores, set_input
from edge_runtime.errors import UserError
from edge_runtime.interpreter import (
    BACKENDS,
    backend_name,
    default_threads,
    load_backend,
    make_interpreter,
    read_model,
)


def _run(interpreter, seed: int = 0) -> np.ndarray:
    """Scores of one seeded noise image."""
    image = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    set_input(interpreter, image)
    interpreter.invoke()
    return get_scores(interpreter)


@pytest.mark.parametrize("mode", ["float32", "uint8", "int8"])
def test_path_and_bytes_give_the_same_ready_interpreter(tiny_tflite, mode):
    from_path = make_interpreter(tiny_tflite[mode])
    from_bytes = make_interpreter(tiny_tflite[mode].read_bytes(), num_threads=1)
    assert backend_name(from_path) == "ai_edge_litert"
    assert from_path.get_input_details()[0]["shape"].tolist() == [1, 32, 32, 3]
    # Tensors are allocated: invoking works straight away.
    np.testing.assert_array_equal(_run(from_path), _run(from_bytes))


def test_default_backend_is_litert():
    backend = load_backend()
    assert backend.name == "ai_edge_litert" == BACKENDS[0]
    assert backend.interpreter_class.__module__.startswith("ai_edge_litert")


def test_tensorflow_backend_by_name_matches_litert(tiny_tflite):
    litert = make_interpreter(tiny_tflite["uint8"])
    tf_lite = make_interpreter(tiny_tflite["uint8"], backend="tensorflow")
    assert backend_name(tf_lite) == "tensorflow"
    np.testing.assert_allclose(_run(tf_lite, seed=3), _run(litert, seed=3), atol=1 / 256)


def test_falls_back_in_order_when_litert_is_missing(tiny_tflite, monkeypatch):
    # A None entry in sys.modules is how Python marks a module as not importable.
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    if importlib.util.find_spec("tflite_runtime") is None:
        assert load_backend().name == "tensorflow"
        assert backend_name(make_interpreter(tiny_tflite["int8"])) == "tensorflow"
    else:
        assert load_backend().name == "tflite_runtime"


def test_no_backend_installed_says_what_to_pip_install(monkeypatch):
    for name in BACKENDS:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(
        UserError, match=r"^no TFLite interpreter is installed; install one: pip install ai-edge-litert$"
    ):
        load_backend()


def test_unknown_backend_name():
    with pytest.raises(UserError) as err:
        load_backend("tflite")
    assert (
        str(err.value)
        == "unknown backend 'tflite'; choose one of: ai_edge_litert, tflite_runtime, tensorflow"
    )


def test_named_backend_not_installed(monkeypatch, tiny_tflite):
    monkeypatch.setitem(sys.modules, "tflite_runtime", None)
    with pytest.raises(UserError) as err:
        make_interpreter(tiny_tflite["int8"], backend="tflite_runtime")
    assert (
        str(err.value) == "backend 'tflite_runtime' is not installed; install it: pip install tflite-runtime"
    )


def test_missing_model_path(tmp_path):
    missing = tmp_path / "nowhere" / "model.tflite"
    with pytest.raises(FileNotFoundError) as err:
        make_interpreter(missing)
    assert str(err.value) == f"{missing}: model file not found; check the path"


def test_model_path_must_end_in_tflite(tiny_tflite, tmp_path):
    renamed = tmp_path / "model.keras"
    shutil.copy(tiny_tflite["int8"], renamed)
    with pytest.raises(UserError) as err:
        make_interpreter(renamed)
    message = str(err.value)
    assert message.startswith(f"{renamed}: not a .tflite model (the name must end in .tflite)")
    assert "\n" not in message


def test_folder_is_not_a_model(tmp_path):
    folder = tmp_path / "model.tflite"
    folder.mkdir()
    with pytest.raises(UserError, match="is a folder, not a model"):
        make_interpreter(folder)


def test_file_without_tflite_identifier(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"PK\x03\x04 this is a zip, not a model" * 4)
    with pytest.raises(UserError) as err:
        make_interpreter(bad)
    assert str(err.value).startswith(f"{bad}: not a TFLite flatbuffer (no 'TFL3' identifier at bytes 4..8)")


@pytest.mark.parametrize("data", [b"", b"TFL3", b"not a model at all", bytearray(b"1234TFL")])
def test_bytes_without_tflite_identifier(data):
    with pytest.raises(UserError, match=r"^model bytes: not a TFLite flatbuffer \(no 'TFL3' identifier"):
        make_interpreter(data)


def test_truncated_model_with_identifier(tiny_tflite, tmp_path):
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(tiny_tflite["int8"].read_bytes()[:200])
    with pytest.raises(UserError) as err:
        make_interpreter(cut)
    message = str(err.value)
    assert message.startswith(f"{cut}: not a valid TFLite model (")
    assert "\n" not in message


def test_read_model_returns_bytes_and_name(tiny_tflite):
    data, source = read_model(tiny_tflite["float32"])
    assert data == tiny_tflite["float32"].read_bytes()
    assert source == str(tiny_tflite["float32"])
    assert read_model(data)[1] == "model bytes"


@pytest.mark.parametrize("threads", [0, -2, True, 2.5])
def test_bad_thread_count(tiny_tflite, threads):
    with pytest.raises(UserError, match=rf"^num_threads={threads!r}: must be 1 or more"):
        make_interpreter(tiny_tflite["int8"], num_threads=threads)


def _loadable(library: str) -> bool:
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


@pytest.mark.skipif(_loadable("libedgetpu.so.1"), reason="the Edge TPU runtime is installed here")
def test_missing_edgetpu_library_says_how_to_install(tiny_tflite):
    with pytest.raises(UserError) as err:
        make_interpreter(tiny_tflite["int8"], delegate="libedgetpu.so.1")
    message = str(err.value)
    assert message.startswith("delegate library 'libedgetpu.so.1' cannot be loaded (")
    assert message.endswith(
        "install an Edge TPU runtime built for this TFLite backend "
        "(see docs/devices.md, 'Coral: known-good runtime pairings')"
    )
    assert "\n" not in message


def test_missing_other_delegate_library(tiny_tflite, tmp_path):
    missing = str(tmp_path / "libmissing_delegate.so")
    with pytest.raises(UserError) as err:
        make_interpreter(tiny_tflite["int8"], delegate=missing)
    assert str(err.value).startswith(f"delegate library {missing!r} cannot be loaded (")
    assert str(err.value).endswith("check the name or path, or install the package that provides it")


@pytest.mark.skipif(ctypes.util.find_library("m") is None, reason="no libm to load")
def test_library_that_is_not_a_delegate(tiny_tflite):
    libm = ctypes.util.find_library("m")
    with pytest.raises(UserError) as err:
        make_interpreter(tiny_tflite["int8"], delegate=libm)
    assert str(err.value) == (
        f"{libm!r} is not a TFLite delegate (no tflite_plugin_create_delegate); "
        "pass an external-delegate library such as libedgetpu.so.1"
    )


def _new_threads(model, **kwargs) -> int:
    """Threads the interpreter adds to this process once it has run (its CPU thread pool)."""
    before = len(os.listdir("/proc/self/task"))
    interpreter = make_interpreter(model, **kwargs)
    _run(interpreter)
    return len(os.listdir("/proc/self/task")) - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads are counted in /proc")
def test_default_threads_share_the_usable_cores(tiny_tflite):
    cores = len(os.sched_getaffinity(0))
    assert default_threads() == cores and default_threads(cores + 5) == 1
    assert default_threads(2) == max(1, cores // 2)
    # Left to itself the backend runs on one thread; the default asks for every usable core.
    assert _new_threads(tiny_tflite["int8"]) == 0
    if cores > 1:
        assert _new_threads(tiny_tflite["int8"], num_threads=default_threads()) == cores - 1
    probe = subprocess.run(
        [sys.executable, "-c", "import os; os.sched_setaffinity(0, {0}); "
         "from edge_runtime.interpreter import default_threads; print(default_threads(), default_threads(3))"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert probe.stdout.split() == ["1", "1"], probe.stderr
