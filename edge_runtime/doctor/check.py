"""The doctor's result type: one `Check` a line, with its verdict, what was found and the fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

OK, INFO, WARN, FAIL = "ok", "info", "warn", "fail"
# Worst last: the report's exit code follows the worst verdict.
VERDICTS = (OK, INFO, WARN, FAIL)


@dataclass(frozen=True)
class Check:
    """One line of the report.

    Attributes:
      name: What was checked, short ('numpy', 'edgetpu pairing').
      verdict: 'ok' (works), 'info' (absent but optional, or a fact worth knowing), 'warn' (works now,
        but something will bite), 'fail' (a path this device is set up for is broken).
      detail: What was found, with versions and paths.
      fix: What to do about it; empty when there is nothing to do.
      facts: The raw values behind the verdict, for --json.
    """

    name: str
    verdict: str
    detail: str
    fix: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r}: must be one of {', '.join(VERDICTS)}")


def worst(checks: Iterable[Check]) -> str:
    """The worst verdict among CHECKS ('ok' when there are none)."""
    return max((c.verdict for c in checks), key=VERDICTS.index, default=OK)
