"""`python -m benchmarks.elpv`: the same as `python -m benchmarks elpv`."""

import sys

from benchmarks.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["elpv", *sys.argv[1:]]))
