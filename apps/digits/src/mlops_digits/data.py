"""The data: scikit-learn's digits, or the same arrays from the data volume."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

FEATURES = 64  # 8x8 pixels, each 0..16
CLASSES = 10
DATA_FILE = "digits.npz"  # arrays X (n, 64) and y (n,) on the data volume


def load(data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """X and y from `data_dir`/digits.npz when a data directory is given, else the shipped set."""
    if not data_dir:
        X, y = load_digits(return_X_y=True)
        return X.astype(np.float64), y.astype(np.int64)
    path = Path(data_dir) / DATA_FILE
    if not path.is_file():
        raise SystemExit(f"data: {path} does not exist (DATA_DIR must hold {DATA_FILE} with arrays X and y)")
    with np.load(path) as arrays:
        if "X" not in arrays or "y" not in arrays:
            raise SystemExit(f"data: {path} must hold arrays X and y, it holds {sorted(arrays)}")
        X, y = np.asarray(arrays["X"], dtype=np.float64), np.asarray(arrays["y"], dtype=np.int64)
    if X.ndim != 2 or X.shape[1] != FEATURES or len(X) != len(y):
        raise SystemExit(f"data: {path}: X must be (n, {FEATURES}) and y (n,), got {X.shape} and {y.shape}")
    return X, y


def split(X: np.ndarray, y: np.ndarray, seed: int, test_size: float = 0.25):
    """Train and held-out sets, stratified; the same seed gives the same split (the gate's
    comparison with the served version uses the held-out set of the same split)."""
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
