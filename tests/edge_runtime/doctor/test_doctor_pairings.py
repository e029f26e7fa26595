"""The Coral pairing table: every row sourced, lookups by version, and docs/devices.md holding the generated table."""

from __future__ import annotations

import pytest

from conftest import REPO
from edge_runtime.doctor.coral_pairings import (
    CONFIRMED,
    CRASHES,
    PAIRINGS,
    REPORTED,
    WORKS,
    lookup,
    main,
    pairings_markdown,
)


def test_every_row_has_a_source_and_evidence():
    for row in PAIRINGS:
        assert row.outcome in (WORKS, CRASHES) and row.confidence in (CONFIRMED, REPORTED)
        assert row.source and all(url.startswith("https://github.com/") for url in row.source.split(", "))
        assert row.evidence and row.systems
        assert row.backend in ("tflite_runtime", "ai_edge_litert", "tensorflow")


@pytest.mark.parametrize(
    ("library_tf", "backend", "version", "outcome"),
    [
        ("2.5.0", "tflite_runtime", "2.5.0.post1", WORKS),
        ("2.5.0", "tflite_runtime", "2.11.1", WORKS),
        ("2.5.0", "tflite_runtime", "2.12.0", CRASHES),
        ("2.5.0", "tflite_runtime", "2.14.0", CRASHES),
        ("2.5.0", "tensorflow", "2.14.1", CRASHES),
        ("2.5.0", "ai_edge_litert", "2.3.0", CRASHES),
        ("2.13.1", "tflite_runtime", "2.14.1", WORKS),
        ("2.17.1", "tflite_runtime", "2.17.1", WORKS),
        ("2.19.1", "ai_edge_litert", "2.2.0", WORKS),
        ("2.5.0", "tflite_runtime", "2.16.1", None),  # beyond what the reports tested: unknown, not guessed
        ("2.17.1", "tflite_runtime", "2.18.0", None),
        ("2.19.1", "ai_edge_litert", "2.3.0", None),
        ("2.19.1", "tflite_runtime", "2.19.1", None),
    ],
)
def test_lookup(library_tf, backend, version, outcome):
    row = lookup(library_tf, backend, version)
    assert (row.outcome if row else None) == outcome


def test_the_table_prints_and_docs_devices_md_holds_it(capsys):
    assert main([]) == 0
    assert capsys.readouterr().out == pairings_markdown() + "\n"
    docs = REPO / "docs" / "devices.md"
    text = docs.read_text(encoding="utf-8")
    assert "<!-- coral-pairings -->\n" in text and "\n<!-- /coral-pairings -->" in text, (
        f"{docs}: no table markers"
    )
    block = text.split("<!-- coral-pairings -->\n", 1)[1].split("\n<!-- /coral-pairings -->", 1)[0]
    assert block == pairings_markdown(), (
        f"{docs}: stale Coral pairing table; paste `python -m edge_runtime.doctor.coral_pairings` between the markers"
    )
