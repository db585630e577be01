"""Eq. 4: keep the instances whose score is above a percentile threshold; index files tied to one dataset.

The official code thresholds **per class** (``cutoff = percentile(class scores, 100 - rr)``, keep ``score > cutoff``)
so every class keeps about ``rr``% and the class balance is preserved; the paper's eq. 4 states a single threshold
psi, offered as ``per_class=False``. Unlabelled data is one class. ``retention_ratio = 100`` keeps everything (the
official code's "off" value; a 0th-percentile cutoff with the strict ``>`` would drop each class's minimum).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.errors import ConfigError, DatasetError, ShapeError
from ganlab.core.results import atomic_write_bytes

FORMAT_VERSION = 1


def check_retention_ratio(retention_ratio: float) -> float:
    """Retention ratio rr in percent, rr in (0, 100]."""
    try:
        rr = float(retention_ratio)
    except (TypeError, ValueError):
        raise ConfigError(f"retention_ratio must be a number in (0, 100], got {retention_ratio!r}") from None
    if not 0.0 < rr <= 100.0:
        raise ConfigError(
            f"retention_ratio must be a percentage in (0, 100] (e.g. 50 keeps half the data), got {retention_ratio!r}"
        )
    return rr


def select(scores: np.ndarray, labels: np.ndarray | None, retention_ratio: float, per_class: bool = True) -> np.ndarray:
    """Eq. 4: sorted indices of the kept instances, ``H(F(x)) > psi`` with psi the ``(100 - rr)``-th percentile.

    ``per_class=True`` (official code) takes psi within each class of ``labels``; ``per_class=False`` or
    ``labels=None`` uses one psi for all. The percentile is numpy's linear interpolation, as in the official code.
    """
    rr = check_retention_ratio(retention_ratio)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ShapeError(f"scores must be a vector, got shape {scores.shape}")
    if not np.isfinite(scores).all():
        raise ShapeError("scores contain NaN or infinite values; check the embeddings and the scorer")
    n = len(scores)
    if rr == 100.0:
        return np.arange(n, dtype=np.int64)
    keep = np.zeros(n, dtype=bool)
    if labels is None or not per_class:
        keep = scores > np.percentile(scores, 100.0 - rr)
    else:
        from ganlab.instance_selection.scoring import class_groups

        for _, idx in class_groups(np.asarray(labels), n):
            s = scores[idx]
            keep[idx] = s > np.percentile(s, 100.0 - rr)
    return np.flatnonzero(keep).astype(np.int64)


def kept_per_class(indices: np.ndarray, labels: np.ndarray | None, n: int | None = None) -> dict[int, tuple[int, int]]:
    """``{class: (kept, total)}``; unlabelled data is class 0."""
    if labels is None:
        total = int(n if n is not None else len(indices))
        return {0: (len(indices), total)}
    labels = np.asarray(labels)
    classes, totals = np.unique(labels, return_counts=True)
    kept = np.unique(labels[indices], return_counts=True)
    kept_map = dict(zip(kept[0].tolist(), kept[1].tolist()))
    return {int(c): (int(kept_map.get(c, 0)), int(t)) for c, t in zip(classes.tolist(), totals.tolist())}


def settings_fingerprint(settings: Mapping[str, Any]) -> str:
    """A stable hash of the selection settings (embedding, scorer and its options, rr, per_class)."""
    blob = json.dumps(dict(settings), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass
class Selection:
    """The result of instance selection: the kept indices and what they belong to."""

    indices: np.ndarray
    dataset_fingerprint: str
    dataset_size: int
    settings: dict[str, Any] = field(default_factory=dict)
    scores: np.ndarray | None = None
    kept_per_class: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def settings_fingerprint(self) -> str:
        return settings_fingerprint(self.settings)

    @property
    def retention(self) -> float:
        """The fraction actually kept (a little under rr/100: the cutoff is strict)."""
        return len(self.indices) / max(self.dataset_size, 1)

    def __len__(self) -> int:
        return len(self.indices)

    # ------------------------------------------------------------------------------------------------ checking
    def check_dataset(self, dataset: Any) -> None:
        """Refuse a dataset other than the one the indices were selected from."""
        fp = getattr(dataset, "fingerprint", None)
        size = len(dataset)
        if fp != self.dataset_fingerprint or size != self.dataset_size:
            raise DatasetError(
                f"this index file was made for dataset {self.dataset_fingerprint} ({self.dataset_size} instances), "
                f"not for dataset {fp} ({size} instances); run `ganlab instance-selection select` on this dataset"
            )

    # ------------------------------------------------------------------------------------------------------ I/O
    def save(self, path: str | Path) -> Path:
        """Write an ``.npz`` index file (atomic) holding the indices, scores, fingerprints and settings."""
        path = Path(path)
        meta = {
            "format_version": FORMAT_VERSION,
            "dataset_fingerprint": self.dataset_fingerprint,
            "dataset_size": self.dataset_size,
            "settings": self.settings,
            "settings_fingerprint": self.settings_fingerprint,
            "kept_per_class": {str(k): list(v) for k, v in self.kept_per_class.items()},
        }
        arrays: dict[str, np.ndarray] = {
            "indices": np.asarray(self.indices, dtype=np.int64),
            "meta": np.frombuffer(json.dumps(meta, default=str).encode(), dtype=np.uint8),
        }
        if self.scores is not None:
            arrays["scores"] = np.asarray(self.scores, dtype=np.float64)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path, dataset: Any = None) -> Selection:
        """Read an index file; with ``dataset``, refuse it unless it was made from that dataset."""
        path = Path(path)
        if not path.is_file():
            raise DatasetError(f"index file not found: {path}; create it with `ganlab instance-selection select`")
        try:
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(bytes(f["meta"]).decode())
                indices = f["indices"].astype(np.int64)
                scores = f["scores"] if "scores" in f.files else None
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{path} is not an instance-selection index file ({exc})") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise DatasetError(f"{path} has index-file format {meta.get('format_version')}, expected {FORMAT_VERSION}")
        sel = cls(
            indices=indices,
            dataset_fingerprint=meta["dataset_fingerprint"],
            dataset_size=int(meta["dataset_size"]),
            settings=meta["settings"],
            scores=scores,
            kept_per_class={int(k): tuple(v) for k, v in meta.get("kept_per_class", {}).items()},
        )
        if dataset is not None:
            sel.check_dataset(dataset)
        return sel
