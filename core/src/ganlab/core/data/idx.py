"""MNIST's IDX files, read directly: plain (``train-images-idx3-ubyte``) or as downloaded (``...-ubyte.gz``).

Header: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, then each dimension as a
big-endian int32; the data follow in row-major order.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

__all__ = ["find_idx", "read_idx"]


def find_idx(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` if present, else ``folder/stem.gz``, else None."""
    for path in (folder / stem, folder / f"{stem}.gz"):
        if path.is_file():
            return path
    return None


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """The uint8 array of an IDX file with ``ndim`` dimensions; ValueError when the bytes are not that."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(data) < 4 or data[:3] != b"\x00\x00\x08" or data[3] != ndim:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes with {ndim} dimensions (header {data[:4]!r})")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    start = 4 + 4 * ndim
    if len(data) != start + int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, but the file holds {len(data) - start} data bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=start).reshape(shape)
