"""`python -m benchmarks.plan`: the same as `python -m benchmarks plan`."""

import sys

from benchmarks.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["plan", *sys.argv[1:]]))
