"""docs/devices.md's Python client snippets run as printed on a grayscale PNG; without RGB they fail as quoted."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import CLIENTS_PYTHON, REPO, edge_runtime_top
from edge_runtime.metadata import ImageInputMetadata, ModelMetadata, ProbabilityOutputMetadata

pytestmark = pytest.mark.clients

DOC = REPO / "docs" / "devices.md"
LABELS = ["crack", "finger", "clean"]
TASK_LIBRARY_GRAY_ERROR = "Grayscale format does not convert to other formats"
MEDIAPIPE_GRAY_ERROR = "TfLiteTensor and Tensor sizes do not match"

# What a user gets who skips the conversion: each client is handed the grayscale file as it loads it.
UNCONVERTED = """
import json
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision as mp_vision
from PIL import Image
from tflite_support.task import core, vision as tl_vision

def error(call):
    try:
        call()
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return None

out = {}
classifier = tl_vision.ImageClassifier.create_from_options(
    tl_vision.ImageClassifierOptions(base_options=core.BaseOptions(file_name="model_int8.tflite"))
)
out["task_library"] = error(lambda: classifier.classify(tl_vision.TensorImage.create_from_file("cell.png")))
options = mp_vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_path="model_int8.tflite"))
classifier = mp_vision.ImageClassifier.create_from_options(options)
out["mediapipe"] = error(lambda: classifier.classify(mp.Image.create_from_file("cell.png")))
rgb = np.asarray(Image.open("cell.png").convert("RGB"))
out["mediapipe_next_rgb_call"] = error(
    lambda: classifier.classify(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
)
print(json.dumps(out))
"""


def doc_snippets() -> dict[str, str]:
    """The Python blocks of docs/devices.md that follow a `<!-- clients-python: NAME -->` marker."""
    found = re.findall(r"<!-- clients-python: (\w+) -->\n```python\n(.*?)```", DOC.read_text(), flags=re.S)
    snippets = dict(found)
    assert len(found) == 2 and set(snippets) == {"mediapipe", "task_library"}, [name for name, _ in found]
    return snippets


def run_in_clients(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Runs CODE with the clients' Python in CWD, as a user runs a pasted snippet."""
    return subprocess.run(
        [str(CLIENTS_PYTHON), "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def folder(tiny_tflite, tmp_path_factory) -> Path:
    """model_int8.tflite (our metadata and labels) and cell.png, a grayscale PNG at the model's input size."""
    from convert.metadata_writer import populate

    folder = tmp_path_factory.mktemp("docs_clients")
    meta = ModelMetadata(name="tiny", input=ImageInputMetadata(), output=ProbabilityOutputMetadata())
    labels = "\n".join(LABELS).encode() + b"\n"
    (folder / "model_int8.tflite").write_bytes(
        populate(tiny_tflite["uint8"].read_bytes(), meta, {"labels.txt": labels})
    )
    # 32x32, the tiny model's input: no client resizes, so all see edge_runtime's pixels.
    gray = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
    Image.fromarray(gray, mode="L").save(folder / "cell.png")
    with Image.open(folder / "cell.png") as image:
        assert image.mode == "L"
    return folder


@pytest.mark.parametrize("client", ["mediapipe", "task_library"])
def test_the_documented_snippet_classifies_a_grayscale_png_as_edge_runtime_does(folder, client):
    proc = run_in_clients(doc_snippets()[client], folder)
    assert proc.returncode == 0, proc.stderr
    printed = [re.fullmatch(r"(\w+): ([01]\.\d{4})", line) for line in proc.stdout.splitlines()]
    assert len(printed) == 2 and all(printed), proc.stdout
    ours = dict(edge_runtime_top(folder / "model_int8.tflite", [folder / "cell.png"], top_k=len(LABELS))[0])
    # Same score for each printed label, and the two printed are the two best (either one of a tie).
    for match in printed:
        assert float(match[2]) == pytest.approx(ours[match[1]], abs=1e-4), (match[0], ours)
    assert sorted(float(m[2]) for m in printed) == pytest.approx(sorted(ours.values())[-2:], abs=1e-4)


def test_without_the_rgb_conversion_both_clients_fail_as_the_doc_says(folder):
    proc = run_in_clients(UNCONVERTED, folder)
    assert proc.returncode == 0, proc.stderr
    errors = json.loads(proc.stdout.strip().splitlines()[-1])
    assert TASK_LIBRARY_GRAY_ERROR in errors["task_library"]
    assert MEDIAPIPE_GRAY_ERROR in errors["mediapipe"]
    # The failed call leaves MediaPipe's classifier broken: a correct RGB image fails next.
    assert errors["mediapipe_next_rgb_call"] is not None
    doc = " ".join(DOC.read_text().split())  # the doc wraps lines
    assert TASK_LIBRARY_GRAY_ERROR in doc and MEDIAPIPE_GRAY_ERROR in doc
