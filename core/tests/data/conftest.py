"""Tiny fake copies of on-disk datasets, written in their real formats."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest


def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    """MNIST's IDX format: big-endian magic 2051 (images) / 2049 (labels), then sizes, then uint8 data."""
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, h, w) + images.tobytes())
    label_bytes = labels.astype(np.uint8).tobytes()
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + label_bytes)


def fake_mnist_like(root: Path, folder: str, n_train: int, n_test: int, seed: int):
    rng = np.random.default_rng(seed)
    tr = (rng.random((n_train, 28, 28)) < 0.2) * rng.integers(1, 256, (n_train, 28, 28))
    te = (rng.random((n_test, 28, 28)) < 0.2) * rng.integers(1, 256, (n_test, 28, 28))
    tr, te = tr.astype(np.uint8), te.astype(np.uint8)
    ytr, yte = rng.integers(0, 10, n_train), rng.integers(0, 10, n_test)
    write_idx(root / folder / "raw", "train", tr, ytr)
    write_idx(root / folder / "raw", "t10k", te, yte)
    return tr, ytr, te, yte


@pytest.fixture
def fake_mnist_root(tmp_path):
    tr, ytr, _, _ = fake_mnist_like(tmp_path, "MNIST", 120, 10, seed=0)
    return tmp_path, tr, ytr


@pytest.fixture
def fake_mnist_fmnist_root(tmp_path):
    m = fake_mnist_like(tmp_path, "MNIST", 200, 10, seed=0)
    f = fake_mnist_like(tmp_path, "FashionMNIST", 150, 10, seed=1)
    return tmp_path, m, f
