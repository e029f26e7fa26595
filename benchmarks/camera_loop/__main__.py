"""Runs `python -m benchmarks camera` for the old spelling `python -m benchmarks.camera_loop`, saying so."""

import sys

from benchmarks.__main__ import renamed

if __name__ == "__main__":
    sys.exit(renamed("benchmarks.camera_loop", "camera"))
