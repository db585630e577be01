"""Exact k-nearest neighbours and k-means on faiss, batched, never an N×N matrix.

Semantics follow sklearn ``NearestNeighbors(algorithm="brute")``: ``metric="l2"`` returns Euclidean distances (not
squared), ``metric="cosine"`` returns ``1 - cos``. faiss searches in float32 for a few extra candidates per query and
the candidates are then re-ranked by distances recomputed in float64, so returned distances are exact to float32
rounding and the order does not suffer from float32 cancellation in ``|x|² + |y|² - 2x·y``.

faiss is required: without it a clear :class:`~ganlab.core.errors.MissingDependencyError` is raised. There is
deliberately no dense N×N fallback (that is how the official IC-GAN preprocessing runs out of memory on ImageNet).
GPU users install ``faiss-gpu`` (same ``faiss`` module); indexes then go to all visible GPUs unless
``device="cpu"`` is passed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganlab.core.errors import MissingDependencyError, NonFiniteError, ShapeError

__all__ = [
    "NonFiniteError",
    "faiss_uses_gpu",
    "kmeans",
    "kmeans_instances",
    "knn",
]

METRICS = ("l2", "cosine")
# Extra faiss candidates per query that are re-ranked in float64; float32 rounding can only swap neighbours whose
# distances agree to ~1e-6, so a handful of spares is plenty.
_EXTRA_CANDIDATES = 4
# Bytes of float64 scratch used when re-ranking one block of queries.
_REFINE_BYTES = 64 * 2**20


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching sys.modules in tests
        raise MissingDependencyError(
            "ganlab.core.knn needs faiss for exact nearest neighbours without an N×N distance matrix; install it "
            "with `pip install faiss-cpu` (or `pip install faiss-gpu-cu12` on CUDA machines)."
        ) from exc
    return faiss


def faiss_uses_gpu(device: Any = None) -> bool:
    """True when faiss was built with GPU support, sees a GPU, and ``device`` does not ask for the CPU."""
    faiss = _faiss()
    if device is not None and str(device).split(":")[0] == "cpu":
        return False
    get = getattr(faiss, "get_num_gpus", None)
    return bool(get is not None and get() > 0)


def as_features(x: Any, name: str, *, dtype: Any = None) -> np.ndarray:
    """``x`` as a 2-D finite numpy array (torch tensors are moved to the CPU); raises ShapeError / NonFiniteError."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D array (n_samples, n_features); got shape {tuple(x.shape)}.")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ShapeError(f"{name} is empty (shape {tuple(x.shape)}); pass at least one sample with one feature.")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ShapeError(f"{name} must hold real numbers; got dtype {x.dtype}.")
    if dtype is not None:
        x = np.asarray(x, dtype=dtype)
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=1).sum())
        raise NonFiniteError(
            f"{name} contains NaN or infinite values in {bad} of {x.shape[0]} rows; drop those samples or fix the "
            "feature extractor (a diverged generator often produces them)."
        )
    return x


def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ShapeError(f"unknown kNN metric {metric!r}; choose one of {list(METRICS)}.")
    return metric


def _flat_index(dim: int, metric: str, device: Any) -> Any:
    faiss = _faiss()
    index = faiss.IndexFlatL2(dim) if metric == "l2" else faiss.IndexFlatIP(dim)
    if faiss_uses_gpu(device):
        index = faiss.index_cpu_to_all_gpus(index)
    return index


def _exact_distances(
    q: np.ndarray, db: np.ndarray, cand: np.ndarray, metric: str, q_norm: np.ndarray, db_norm: np.ndarray
) -> np.ndarray:
    """float64 distances between each query row and its candidate database rows (cand: (B, c) indices)."""
    rows = db[cand].astype(np.float64)  # gather at the input precision, then upcast
    q = np.asarray(q, dtype=np.float64)
    if metric == "l2":
        rows -= q[:, None, :]
        return np.sqrt(np.einsum("bcd,bcd->bc", rows, rows))
    return 1.0 - np.einsum("bcd,bd->bc", rows, q) / (q_norm[:, None] * db_norm[cand])


def _row_norms(x: np.ndarray) -> np.ndarray:
    """float64 row norms, with 1 for zero rows so that a zero vector has cosine similarity 0 to everything."""
    out = np.empty(x.shape[0], dtype=np.float64)
    step = max(1, (32 * 2**20) // (8 * x.shape[1]))
    for s in range(0, x.shape[0], step):
        blk = np.asarray(x[s : s + step], dtype=np.float64)
        out[s : s + step] = np.sqrt(np.einsum("nd,nd->n", blk, blk))
    out[out == 0] = 1.0
    return out


def _index_data(x: np.ndarray, metric: str, norms: np.ndarray | None) -> np.ndarray:
    if metric == "cosine":
        return np.ascontiguousarray(x / norms[:, None], dtype=np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)


def knn(
    query: Any,
    database: Any = None,
    k: int = 5,
    metric: str = "l2",
    exclude_self: bool = False,
    batch_size: int | None = None,
    device: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every ``query`` row among ``database`` rows.

    Args:
        query: (Nq, D) array or tensor.
        database: (N, D); ``None`` searches the query set itself.
        k: neighbours per query; must be < N (``exclude_self``: < N as well, the query itself never counts).
        metric: ``"l2"`` (Euclidean distance) or ``"cosine"`` (``1 - cos``).
        exclude_self: drop row ``i`` from the neighbours of query ``i`` (requires ``database`` to be the query set
            or of the same length, row ``i`` being query ``i``), as sklearn's ``kneighbors(X=None)``.
        batch_size: queries per faiss call (bounds memory of the result heap and re-ranking scratch).
        device: ``"cpu"`` forces a CPU index; anything else uses all GPUs faiss can see, if any.

    Returns:
        ``(distances float32 (Nq, k), indices int64 (Nq, k))``, sorted by increasing distance.
    """
    _faiss()  # fail before any work when faiss is missing
    _check_metric(metric)
    q = as_features(query, "query")
    db = q if database is None else as_features(database, "database")
    if q.shape[1] != db.shape[1]:
        raise ShapeError(
            f"query has {q.shape[1]} features but database has {db.shape[1]}; both must come from the same "
            "feature extractor."
        )
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ShapeError(f"k must be a positive integer; got {k!r}.")
    n = db.shape[0]
    if exclude_self and n != q.shape[0]:
        raise ShapeError(
            f"exclude_self=True needs the query set to be the database (row i = query i); got {q.shape[0]} "
            f"queries and {n} database rows. Pass database=None."
        )
    if k >= n:
        raise ShapeError(
            f"k={k} nearest neighbours need a database of more than k points; got N={n}. Use k <= {n - 1} or "
            "more samples."
        )

    if q.dtype.kind != "f":
        q = q.astype(np.float64)
    db = q if database is None else (db if db.dtype.kind == "f" else db.astype(np.float64))
    q_norm = db_norm = None
    if metric == "cosine":
        q_norm = _row_norms(q)
        db_norm = q_norm if database is None else _row_norms(db)
    index = _flat_index(db.shape[1], metric, device)
    index.add(_index_data(db, metric, db_norm))

    n_cand = min(n, k + int(exclude_self) + _EXTRA_CANDIDATES)
    nq = q.shape[0]
    batch_size = int(batch_size or 65536)
    refine_rows = max(1, _REFINE_BYTES // (8 * n_cand * db.shape[1]))
    q = np.ascontiguousarray(q)
    db = q if database is None else np.ascontiguousarray(db)
    out_d = np.empty((nq, k), dtype=np.float32)
    out_i = np.empty((nq, k), dtype=np.int64)
    for start in range(0, nq, batch_size):
        stop = min(nq, start + batch_size)
        qb = q[start:stop]
        qn = None if q_norm is None else q_norm[start:stop]
        _, cand = index.search(_index_data(qb, metric, qn), n_cand)
        cand = cand.astype(np.int64, copy=False)
        for s in range(0, stop - start, refine_rows):
            e = min(stop - start, s + refine_rows)
            c = cand[s:e]
            dist = _exact_distances(qb[s:e], db, np.maximum(c, 0), metric, None if qn is None else qn[s:e], db_norm)
            if metric == "cosine":
                np.clip(dist, 0.0, 2.0, out=dist)
            dist[c < 0] = np.inf  # faiss pads with -1 when it finds fewer candidates
            if exclude_self:
                is_self = c == np.arange(start + s, start + e)[:, None]
                # With exact duplicates the query itself can rank past the candidates; then the last spare goes.
                missing = ~is_self.any(axis=1)
                is_self[missing, -1] = True
                dist[is_self] = np.inf
            order = np.lexsort((c, dist), axis=1)[:, :k]
            out_d[start + s : start + e] = np.take_along_axis(dist, order, axis=1)
            out_i[start + s : start + e] = np.take_along_axis(c, order, axis=1)
    return out_d, out_i


def kmeans(
    x: Any,
    n_clusters: int,
    n_iter: int = 20,
    seed: int = 0,
    metric: str = "l2",
    device: Any = None,
    max_points_per_centroid: int = 256,
    assign: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """k-means (Lloyd, faiss) of the rows of ``x``.

    ``metric="cosine"`` clusters L2-normalised rows with unit-norm centroids (spherical k-means). faiss subsamples
    ``max_points_per_centroid * n_clusters`` rows for training (its default, 256), seeded by ``seed``.

    Returns:
        ``(centroids float32 (n_clusters, D), assignments int64 (N,))`` — each row's nearest centroid; the
        assignments are ``None`` with ``assign=False`` (one exact search of all rows saved).
    """
    faiss = _faiss()
    _check_metric(metric)
    x = as_features(x, "x")
    n, dim = x.shape
    if not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1 or n_clusters > n:
        raise ShapeError(f"n_clusters must be in [1, N={n}]; got {n_clusters!r}.")
    data32 = _index_data(x, metric, _row_norms(x) if metric == "cosine" else None)
    km = faiss.Kmeans(
        dim,
        int(n_clusters),
        niter=int(n_iter),
        seed=int(seed),
        verbose=False,
        spherical=metric == "cosine",
        gpu=faiss_uses_gpu(device),
        min_points_per_centroid=1,  # do not warn for small toy sets; the paper settings pass N >> K anyway
        max_points_per_centroid=int(max_points_per_centroid),
    )
    km.train(data32)
    centroids = np.asarray(km.centroids, dtype=np.float32).reshape(int(n_clusters), dim)
    if not assign:
        return centroids, None
    if n_clusters == 1:
        assignments = np.zeros(n, dtype=np.int64)
    else:
        _, idx = knn(data32, centroids, k=1, metric=metric, device=device)
        assignments = idx[:, 0]
    return centroids, assignments


def kmeans_instances(
    x: Any,
    n_clusters: int,
    n_iter: int = 20,
    seed: int = 0,
    metric: str = "l2",
    device: Any = None,
    max_points_per_centroid: int = 256,
) -> np.ndarray:
    """Indices (int64, (n_clusters,)) of the real rows of ``x`` nearest each k-means centroid.

    This is IC-GAN's stored-instance selection (k-means on features, then the closest real instance per centroid,
    not the centroid itself). Two centroids may share a nearest instance, as in the official code.
    """
    x = as_features(x, "x")
    centroids, _ = kmeans(
        x, n_clusters, n_iter=n_iter, seed=seed, metric=metric, device=device,
        max_points_per_centroid=max_points_per_centroid, assign=False,
    )  # fmt: skip
    if x.shape[0] == 1:
        return np.zeros(1, dtype=np.int64)
    _, idx = knn(centroids, x, k=1, metric=metric, device=device)
    return idx[:, 0]
