"""The old spelling of `python -m train.evaluate_keras`, kept so existing scripts still run."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from train.evaluate_keras import main

    print("note: python -m train.evaluate is now python -m train.evaluate_keras", file=sys.stderr)
    sys.exit(main())
