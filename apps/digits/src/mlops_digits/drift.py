"""Input drift: recent inputs against the training data's statistics.

The training run stores, per feature, bin edges (its deciles) and the share of training
rows in each bin. The service keeps a window of recent inputs; the drift score is the
mean over features of the Jensen-Shannon distance (base 2, so 0..1) between the
window's and the training data's shares. Same-distribution windows of a few hundred
rows score about 0.05-0.1; a constant feature that starts to vary, or an image set that
is inverted or shifted, scores far higher. Below `min_rows` the score is 0: too few
rows say nothing.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SMOOTH = 0.5  # added to every bin count, so that an empty bin is not an infinite surprise


@dataclass(frozen=True)
class TrainingStats:
    edges: list[np.ndarray]  # per feature, sorted bin edges
    shares: list[np.ndarray]  # per feature, share of training rows per bin (len(edges) + 1)

    @classmethod
    def from_data(cls, X: np.ndarray) -> TrainingStats:
        edges, shares = [], []
        for column in X.T:
            e = np.unique(np.quantile(column, np.linspace(0.1, 0.9, 9)))
            edges.append(e)
            shares.append(_shares(column, e))
        return cls(edges, shares)

    def to_json(self) -> str:
        return json.dumps(
            {"edges": [e.tolist() for e in self.edges], "shares": [s.tolist() for s in self.shares]}
        )

    @classmethod
    def load(cls, path: Path) -> TrainingStats:
        data = json.loads(path.read_text())
        return cls([np.asarray(e) for e in data["edges"]], [np.asarray(s) for s in data["shares"]])

    def score(self, window: np.ndarray) -> float:
        """Mean Jensen-Shannon distance of `window`'s columns to the training shares."""
        distances = [
            _js_distance(_shares(column, e), p)
            for column, e, p in zip(window.T, self.edges, self.shares, strict=True)
        ]
        return float(np.mean(distances))


def _shares(column: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # bin i holds the values above i edges: a feature constant at c has bins "= c" and "> c"
    counts = np.bincount(np.searchsorted(edges, column, side="left"), minlength=len(edges) + 1)
    counts = counts + _SMOOTH
    return counts / counts.sum()


def _js_distance(p: np.ndarray, q: np.ndarray) -> float:
    m = (p + q) / 2
    js = 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m))
    return float(np.sqrt(max(js, 0.0)))


class DriftWindow:
    """The last `size` input rows (a ring buffer), scored against the training statistics."""

    def __init__(self, stats: TrainingStats, size: int = 500, min_rows: int = 50):
        self.stats = stats
        self.size = size
        self.min_rows = min_rows
        self._rows = np.zeros((size, len(stats.edges)))
        self._next = 0
        self._count = 0
        self._lock = threading.Lock()

    def add(self, X: np.ndarray) -> None:
        X = X[-self.size :]
        with self._lock:
            end = self._next + len(X)
            if end <= self.size:
                self._rows[self._next : end] = X
            else:
                split = self.size - self._next
                self._rows[self._next :] = X[:split]
                self._rows[: end - self.size] = X[split:]
            self._next = end % self.size
            self._count = min(self._count + len(X), self.size)

    def __len__(self) -> int:
        return self._count

    def score(self) -> float:
        with self._lock:
            if self._count < self.min_rows:
                return 0.0
            window = self._rows[: self._count].copy()
        return self.stats.score(window)
