"""Where class names come from: --labels, the model's own, else labels.txt beside any model without usable ones."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from edge_runtime.errors import UserError
from edge_runtime.metadata import METADATA_NAME, ModelMetadata, ProbabilityOutputMetadata
from edge_runtime.model_labels import resolve_labels

PACKED = ["crack", "finger", "clean"]
BESIDE = ["a", "b", "c"]


def _populated(plain: bytes, labels_file: str | None = "labels.txt") -> bytes:
    from convert.metadata_writer import populate

    meta = ModelMetadata(name="tiny", output=ProbabilityOutputMetadata(labels_file=labels_file))
    files = {labels_file: "".join(f"{n}\n" for n in PACKED).encode()} if labels_file else {}
    return populate(plain, meta, files)


def _without_packed_files(model: bytes) -> bytes:
    """MODEL with its appended zip cut off, the metadata still naming labels.txt (as the compiler may leave it)."""
    start = min(info.header_offset for info in zipfile.ZipFile(io.BytesIO(model)).infolist())
    return model[:start]


def _unreadable_metadata(model: bytes) -> bytes:
    """MODEL whose TFLITE_METADATA buffer has lost its M001 identifier."""
    assert model.count(b"M001") == 1 and METADATA_NAME.encode() in model
    return model.replace(b"M001", b"XXXX")


CASES = {
    "no metadata": lambda plain: plain,
    "metadata naming no labels file": lambda plain: _populated(plain, labels_file=None),
    "labels file named but not packed": lambda plain: _without_packed_files(_populated(plain)),
    "metadata unreadable": lambda plain: _unreadable_metadata(_populated(plain)),
}


def _write(folder: Path, model: bytes, beside: list[str] | None) -> Path:
    folder.mkdir()
    path = folder / "model_int8_edgetpu.tflite"
    path.write_bytes(model)
    if beside is not None:
        (folder / "labels.txt").write_text("".join(f"{n}\n" for n in beside))
    return path


@pytest.mark.parametrize("case", CASES)
def test_labels_txt_beside_serves_every_model_without_usable_embedded_labels(tiny_tflite, tmp_path, case):
    path = _write(tmp_path / "m", CASES[case](tiny_tflite["uint8"].read_bytes()), BESIDE)
    warnings: list[str] = []
    names, source = resolve_labels(path, None, 3, warn=warnings.append)
    assert (names, source) == (BESIDE, str(path.with_name("labels.txt")))
    unusable = case in ("labels file named but not packed", "metadata unreadable")
    assert len(warnings) == unusable
    if unusable:
        assert warnings[0].startswith(f"warning: the model's own labels are unusable ({path}")
        assert warnings[0].endswith("; trying labels.txt beside it")


@pytest.mark.parametrize("case", CASES)
def test_without_labels_txt_the_classes_are_shown_by_index(tiny_tflite, tmp_path, case):
    path = _write(tmp_path / "m", CASES[case](tiny_tflite["uint8"].read_bytes()), None)
    assert resolve_labels(path, None, 3) == (None, "none (class indices)")


def test_embedded_labels_win_over_labels_txt_and_labels_option_over_both(tiny_tflite, tmp_path):
    path = _write(tmp_path / "m", _populated(tiny_tflite["uint8"].read_bytes()), BESIDE)
    assert resolve_labels(path, None, 3) == (PACKED, f"{path} (embedded)")
    option = tmp_path / "names.txt"
    option.write_text("x\ny\nz\n")
    assert resolve_labels(path, str(option), 3) == (["x", "y", "z"], str(option))


def test_labels_that_do_not_match_the_outputs_are_an_error(tiny_tflite, tmp_path):
    path = _write(tmp_path / "m", tiny_tflite["uint8"].read_bytes(), ["a", "b"])
    with pytest.raises(UserError, match=r"labels.txt: 2 labels but the model has 3 outputs; use the labels"):
        resolve_labels(path, None, 3)
