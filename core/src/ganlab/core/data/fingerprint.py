"""Content fingerprints of datasets: a hash over the data itself, so that files made from a dataset (feature caches,
instance-selection indices, Dia-GAN scores, IC-GAN neighbourhoods) are refused once the data changed.

- in-memory data: SHA-1 over the tensor's bytes;
- files (image folders, HDF5): SHA-1 over each file's bytes, streamed in 1 MiB blocks and cached by
  (path, size, mtime) in ``$GANLAB_CACHE_DIR/fingerprints.sqlite`` (default ``~/.cache/ganlab``), so the second time
  costs a ``stat`` per file; replacing a file in place changes its mtime, hence its hash is recomputed;
- anything else: SHA-1 over the decoded batches of ``get_batch``, streamed.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.fileio import cache_root

_BLOCK = 1 << 20


def cache_path() -> Path:
    return cache_root() / "fingerprints.sqlite"


def array_digest(*arrays: Any) -> str:
    """SHA-1 over the bytes (and shapes and dtypes) of tensors / arrays, in order."""
    h = hashlib.sha1()
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        if torch.is_tensor(a):
            a = a.detach().cpu().contiguous().numpy()
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def _hash_file(path: str) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def _open_cache() -> sqlite3.Connection | None:
    try:
        path = cache_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(path), timeout=30)
        con.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, sha1 TEXT)")
        return con
    except (OSError, sqlite3.Error):  # a read-only home: hash without a cache
        return None


def file_digests(paths: Sequence[str | os.PathLike], progress: bool = False) -> list[str]:
    """The SHA-1 of each file's bytes, from the (size, mtime) cache where the file is unchanged."""
    stats = []
    for p in paths:
        st = os.stat(p)
        stats.append((str(Path(p).resolve()), st.st_size, st.st_mtime_ns))
    con = _open_cache()
    known: dict[str, tuple[int, int, str]] = {}
    if con is not None:
        with con:
            for i in range(0, len(stats), 900):  # sqlite's default limit of bound parameters
                chunk = [s[0] for s in stats[i : i + 900]]
                marks = ",".join("?" * len(chunk))
                for path, size, mtime, sha in con.execute(
                    f"SELECT path, size, mtime, sha1 FROM files WHERE path IN ({marks})", chunk
                ):
                    known[path] = (size, mtime, sha)
    out, fresh = [], []
    todo = [s for s in stats if known.get(s[0], (None, None))[:2] != s[1:]]
    if todo and progress:
        from tqdm.auto import tqdm

        iterator = iter(tqdm(todo, desc="fingerprinting files", unit="file"))
    else:
        iterator = iter(todo)
    hashed = {}
    for path, size, mtime in iterator:
        sha = _hash_file(path)
        hashed[path] = sha
        fresh.append((path, size, mtime, sha))
    for path, _, _ in stats:
        out.append(hashed[path] if path in hashed else known[path][2])
    if con is not None:
        try:
            with con:
                con.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", fresh)
        except sqlite3.Error:
            pass
        con.close()
    return out


def files_digest(paths: Sequence[str | os.PathLike], progress: bool = False) -> str:
    """One SHA-1 over the ordered per-file hashes."""
    h = hashlib.sha1()
    for sha in file_digests(paths, progress=progress):
        h.update(sha.encode())
    return h.hexdigest()


def stream_digest(dataset: Any, batch_size: int = 256, progress: bool = False) -> str:
    """SHA-1 over every decoded batch of ``dataset.get_batch`` (images, labels, groups), streamed."""
    h = hashlib.sha1()
    n = len(dataset)
    starts = range(0, n, batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"fingerprinting {getattr(dataset, 'name', 'dataset')}", unit="batch")
    for s in starts:
        b = dataset.get_batch(np.arange(s, min(n, s + batch_size)))
        h.update(array_digest(b["image"], b.get("label"), b.get("group")).encode())
    return h.hexdigest()
