"""Runs `python -m benchmarks elpv` for the old spelling `python -m benchmarks.elpv_accuracy`, saying so."""

import sys

from benchmarks.__main__ import renamed

if __name__ == "__main__":
    sys.exit(renamed("benchmarks.elpv_accuracy", "elpv"))
