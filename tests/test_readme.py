"""The README's Python example runs as printed, on a model that carries its labels, without TensorFlow."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
from PIL import Image

from conftest import REPO
from edge_runtime.metadata import ImageInputMetadata, ModelMetadata, ProbabilityOutputMetadata

LABELS = ["crack", "finger", "clean"]


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    assert len(blocks) == 1, "the README should show one Python example"
    return blocks[0]


def test_the_readme_example_classifies_with_the_labels_packed_in_the_model(tiny_tflite, tmp_path):
    from convert.metadata_writer import populate

    meta = ModelMetadata(name="tiny", input=ImageInputMetadata(), output=ProbabilityOutputMetadata())
    model = tmp_path / "build" / "tflite" / "model_int8.tflite"
    model.parent.mkdir(parents=True)
    model.write_bytes(
        populate(tiny_tflite["uint8"].read_bytes(), meta, {"labels.txt": "\n".join(LABELS).encode() + b"\n"})
    )
    rgb = np.random.default_rng(0).integers(0, 256, (48, 40, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "cell.png")
    script = (
        readme_example()
        + "\nimport sys\nassert not [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 and all(re.fullmatch(r"(crack|finger|clean): [01]\.\d{4}", line) for line in lines)
