"""CIFAR python batch files (the pickles inside cifar-10-python.tar.gz), read without running any code."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from edge_runtime.errors import UserError


class _ArraysOnly(pickle.Unpickler):
    """Unpickles dicts of numpy arrays and plain values; refuses every other global (no code runs)."""

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in a CIFAR batch file")
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR python batch: (N, 32, 32, 3) uint8 images and (N,) labels."""
    try:
        with open(path, "rb") as f:
            batch = _ArraysOnly(f, encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.uint8)
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError) as err:
        raise UserError(f"{path}: not a CIFAR-10 python batch ({err}); download the archive again") from None
    return data.transpose(0, 2, 3, 1), labels
