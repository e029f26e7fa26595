"""Which libedgetpu build works with which TFLite backend: the one table, each row with its source.

libedgetpu compiles TensorFlow Lite's delegate headers in, so it must match the interpreter that loads
it; a mismatch is no error message but a segfault. Coral's apt packages (libedgetpu1-std/-max 16.0) were
built against TensorFlow 2.5.0 (google-coral/libedgetpu, workspace.bzl of the Grouper release); the
community rebuilds (github.com/feranick/libedgetpu) carry the TensorFlow version in their package
version, e.g. 16.0tf2.17.1-1. A pairing not in the table is unknown: nothing here is guessed.

`python -m edge_runtime.doctor.coral_pairings` prints the table for docs/devices.md (a test keeps the two equal).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from edge_runtime.doctor.packages import version_tuple

WORKS, CRASHES = "works", "crashes"
# confirmed: someone ran it and said so in the maintainers' tracker, or a maintained product ships it;
# reported: one third-party project pins it (its own claim, not a tracker report).
CONFIRMED, REPORTED = "confirmed", "reported"

CORAL_APT = "Coral apt 16.0 (libedgetpu1-std/-max)"

_ISSUE_812 = "https://github.com/google-coral/edgetpu/issues/812"
_ISSUE_53 = "https://github.com/google-coral/libedgetpu/issues/53"
_ISSUE_62371 = "https://github.com/tensorflow/tensorflow/issues/62371"
_ISSUE_873 = "https://github.com/google-coral/edgetpu/issues/873"
_FRIGATE = "https://github.com/blakeblackshear/frigate/blob/dev/docker/main/install_deps.sh"
_MODEL_GARDEN = "https://github.com/jiteshsaini/model_garden/blob/main/install.sh"


@dataclass(frozen=True)
class Pairing:
    """One libedgetpu build with a range of one backend's versions.

    Attributes:
      library: The libedgetpu build as users install it.
      library_tf: The TensorFlow version it was built against ('2.5.0' for Coral's apt 16.0).
      backend: 'tflite_runtime', 'ai_edge_litert' or 'tensorflow'.
      lowest: The lowest backend version the row covers ('' = any).
      highest: The highest backend version the row covers ('' = any).
      outcome: 'works' or 'crashes'.
      confidence: 'confirmed' or 'reported' (see above).
      systems: Where it was seen (OS, Python, architecture).
      evidence: What the source says, in a line.
      source: Where it says so.
    """

    library: str
    library_tf: str
    backend: str
    lowest: str
    highest: str
    outcome: str
    confidence: str
    systems: str
    evidence: str
    source: str

    def covers(self, library_tf: str, backend: str, version: str) -> bool:
        """True when this row is about a library built against LIBRARY_TF with BACKEND at VERSION."""
        if version_tuple(library_tf) != version_tuple(self.library_tf) or backend != self.backend:
            return False
        v = version_tuple(version)
        return (not self.lowest or v >= version_tuple(self.lowest)) and (
            not self.highest or v <= version_tuple(self.highest)
        )

    @property
    def backend_versions(self) -> str:
        if self.lowest and self.lowest == self.highest:
            return self.lowest
        if self.lowest and self.highest:
            return f"{self.lowest} to {self.highest}"
        if self.highest:
            return f"up to {self.highest}"
        return f"{self.lowest} and later" if self.lowest else "any"


PAIRINGS = (
    Pairing(
        CORAL_APT, "2.5.0", "tflite_runtime", "2.5.0", "2.11.1", WORKS, CONFIRMED,
        "Python 3.9 and older (Coral's own tflite-runtime 2.5.0.post1 and pycoral need Python < 3.10)",
        "the last TFLite that runs Coral's library is 2.11.1; python3-pycoral depends on "
        "python3-tflite-runtime 2.5.0.post1 and python3 < 3.10, so not on Bookworm or Trixie",
        f"{_ISSUE_812}, {_ISSUE_873}",
    ),
    Pairing(
        CORAL_APT, "2.5.0", "tflite_runtime", "2.12.0", "2.15.0", CRASHES, CONFIRMED,
        "Raspberry Pi 4 and 5 (Bookworm, Python 3.11), Ubuntu, macOS",
        "every TFLite release from 2.12 to 2.15.0 tested segfaults with Coral's library",
        f"{_ISSUE_812}, {_ISSUE_53}",
    ),
    Pairing(
        CORAL_APT, "2.5.0", "tensorflow", "2.12.0", "2.15.0", CRASHES, CONFIRMED,
        "Raspberry Pi 5, Python 3.11 (tf.lite through ultralytics)",
        "tf.lite's interpreter of TensorFlow 2.14 segfaults with Coral's library; 2.12 to 2.15.0 as above",
        f"{_ISSUE_62371}, {_ISSUE_812}",
    ),
    Pairing(
        CORAL_APT, "2.5.0", "ai_edge_litert", "", "", CRASHES, REPORTED,
        "Raspberry Pi OS Bookworm and Trixie",
        "every ai-edge-litert release is built from TensorFlow newer than 2.11; model_garden's installer "
        "says Coral's library crashes under it and installs a community build instead",
        f"{_MODEL_GARDEN}, {_ISSUE_812}",
    ),
    Pairing(
        "feranick 16.0tf2.13.1", "2.13.1", "tflite_runtime", "2.13.1", "2.15.0", WORKS, CONFIRMED,
        "Ubuntu 22.04 x86-64, macOS 14 (the builder's own tests: 2.13.1, 2.14.1, 2.15.0)",
        "libedgetpu rebuilt against TF 2.13.1 runs tflite_runtime 2.13.1, 2.14.1 and 2.15.0 without the segfault",
        _ISSUE_812,
    ),
    Pairing(
        "feranick 16.0tf2.17.1", "2.17.1", "tflite_runtime", "2.17.1", "2.17.1", WORKS, CONFIRMED,
        "Debian 12 Bookworm, Python 3.11, amd64 and arm64 (Frigate's container image)",
        "Frigate ships libedgetpu1-max 16.0tf2.17.1 with tflite_runtime 2.17.1 (feranick/TFlite-builds cp311 wheels)",
        _FRIGATE,
    ),
    Pairing(
        "feranick 16.0tf2.19.1", "2.19.1", "ai_edge_litert", "2.2.0", "2.2.0", WORKS, REPORTED,
        "Raspberry Pi OS Bookworm and Trixie",
        "model_garden's installer pins ai-edge-litert 2.2.0 with this build and checks that a compiled model loads",
        _MODEL_GARDEN,
    ),
)  # fmt: skip


def lookup(library_tf: str, backend: str, version: str) -> Pairing | None:
    """The table's row about a libedgetpu built against LIBRARY_TF with BACKEND VERSION, or None (unknown)."""
    return next((p for p in PAIRINGS if p.covers(library_tf, backend, version)), None)


def known_for(library_tf: str) -> list[Pairing]:
    """The rows that work with a library built against LIBRARY_TF (to suggest a backend version)."""
    return [
        p for p in PAIRINGS if version_tuple(p.library_tf) == version_tuple(library_tf) and p.outcome == WORKS
    ]


def pairings_markdown() -> str:
    """The table as Markdown, for docs/devices.md."""
    header = ["libedgetpu (built against TF)", "backend", "backend versions", "outcome", "seen on", "source"]
    lines = [f"| {' | '.join(header)} |", f"| {' | '.join('---' for _ in header)} |"]
    for p in PAIRINGS:
        outcome = f"**{p.outcome}** ({p.confidence})"
        sources = ", ".join(f"[{_short(url)}]({url})" for url in p.source.split(", "))
        lines.append(
            f"| {p.library} (TF {p.library_tf}) | `{p.backend}` | {p.backend_versions} | {outcome}: "
            f"{p.evidence} | {p.systems} | {sources} |"
        )
    return "\n".join(lines)


def _short(url: str) -> str:
    """'google-coral/edgetpu#812' for an issue URL, 'owner/repo' for a file."""
    parts = url.removeprefix("https://github.com/").split("/")
    return (
        f"{parts[0]}/{parts[1]}#{parts[3]}"
        if len(parts) > 3 and parts[2] == "issues"
        else f"{parts[0]}/{parts[1]}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m edge_runtime.doctor.coral_pairings`: prints the table (Markdown) for docs/devices.md."""
    argparse.ArgumentParser(
        prog="python -m edge_runtime.doctor.coral_pairings",
        description="Print the known libedgetpu / TFLite backend pairings as the Markdown table between "
        "<!-- coral-pairings --> and <!-- /coral-pairings --> in docs/devices.md.",
    ).parse_args(argv)
    print(pairings_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
