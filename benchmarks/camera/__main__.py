"""`python -m benchmarks.camera`: the same as `python -m benchmarks camera`."""

import sys

from benchmarks.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["camera", *sys.argv[1:]]))
