"""Precision & Recall (Kynkäänniemi et al., 2019), Density & Coverage (Naeem et al., 2020), partial recall (Dia-GAN).

Manifolds are unions of k-NN balls: real point i has radius rᵢ = distance to its k-th nearest other real point
(fake radii likewise among fakes). With dᵢⱼ the real-fake distance:
    precision = mean_j 1[∃i dᵢⱼ < rᵢ]              recall   = mean_i 1[∃j dᵢⱼ < r̃ⱼ]
    density   = (1/kM) Σ_j Σ_i 1[dᵢⱼ < rᵢ]         coverage = mean_i 1[minⱼ dᵢⱼ < rᵢ]
Comparisons are strict (``<``) by default, as the ``prdc`` package (Naeem et al.'s reference code); Kynkäänniemi's
code, StyleGAN2-ADA and torch-fidelity use ``<=`` (``strict=False``), which only differs with duplicate samples.

Implementation: radii from symmetric real×real (fake×fake) float32 GEMM tiles that keep a few candidates per row,
re-ranked in float64; then real×fake tiles (never an N×M matrix). A pair whose float32 squared distance lies within
a rigorous rounding bound of a radius is recomputed in float64. Float32 inputs are decided exactly as the ``prdc``
package does (sklearn's ``pairwise_distances``: the squared distance computed in float64, rounded to float32, then a
float32 square root), for the pair distances and the k-NN radii alike, so the results are identical to the package's
even on near-ties (a distance rounded straight from float64 to float32 can differ by one float32 step and flip a
strict ``<``). Float64 inputs are decided on float64 distances.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ShapeError
from ganlab.core.metrics._checks import as_features, enough_samples, same_dim

__all__ = ["manifold_radii", "partial_recall", "prdc", "precision_recall"]

_ROWS = 4096  # real rows per tile
_COLS = 4096  # fake columns per tile
_EXACT_PAIRS = 4096  # pairs recomputed in float64 at once
_EXTRA_CANDIDATES = 4  # spare neighbours per row re-ranked in float64


@contextlib.contextmanager
def _highest_matmul_precision() -> Iterator[None]:
    """TF32/bf16 GEMMs would void the rounding bounds used below."""
    prev = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(prev)


def _cmp_dtype(*arrays: np.ndarray) -> np.dtype:
    # Decisions are taken at the precision the prdc package would compare at: float32 inputs -> float32 distances.
    if all(a.dtype in (np.float32, np.float16) for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _row_sq64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return np.einsum("nd,nd->n", diff, diff)


def _row_dist64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(_row_sq64(a, b))


def _decided(sq64: np.ndarray, cmp: np.dtype) -> np.ndarray:
    """Distances from float64 squared distances at the comparison precision: for float32, the ``prdc`` package's
    rounding (sklearn: float64 d² -> float32 -> float32 sqrt), not a float32 rounding of the float64 distance."""
    if cmp == np.float32:
        return np.sqrt(np.asarray(sq64, np.float64).astype(np.float32))
    return np.sqrt(np.asarray(sq64, np.float64))


def _shifted32(x: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x - shift`` as float32 and its squared row norms (of the float32 values, accumulated in float64)."""
    out = np.empty(x.shape, dtype=np.float32)
    norms = np.empty(x.shape[0], dtype=np.float64)
    step = max(1, (32 * 2**20) // (8 * x.shape[1]))
    for s in range(0, x.shape[0], step):
        blk = np.asarray(x[s : s + step], dtype=np.float64) - shift
        out[s : s + step] = blk
        b32 = out[s : s + step].astype(np.float64)
        norms[s : s + step] = np.einsum("nd,nd->n", b32, b32)
    return out, norms.astype(np.float32)


def _self_radii(x: np.ndarray, k: int, device: Any) -> np.ndarray:
    """(k+1)-th smallest distance from each row to all rows, itself included (= k-th other point), float64.

    Symmetric float32 tiles (each pair of row blocks computed once, used for both) keep the best few candidates
    per row; the candidates are re-ranked with exact float64 distances. A row whose last candidate could still hide
    a closer point within the rounding bound is recomputed against all rows, so the result is exact.
    """
    n, dim = x.shape
    n_cand = min(n, k + 1 + _EXTRA_CANDIDATES)
    dev = torch.device("cpu") if device is None else torch.device(device)
    shift = x.mean(axis=0, dtype=np.float64)
    xs_np, xn_np = _shifted32(x, shift)
    xs, xn = torch.from_numpy(xs_np).to(dev), torch.from_numpy(xn_np).to(dev)
    best_v = torch.full((n, n_cand), float("inf"), device=dev)
    best_i = torch.full((n, n_cand), -1, dtype=torch.long, device=dev)

    def merge(lo: int, hi: int, values: torch.Tensor, indices: torch.Tensor) -> None:
        all_v = torch.cat([best_v[lo:hi], values], dim=1)
        all_i = torch.cat([best_i[lo:hi], indices], dim=1)
        top, pos = torch.topk(all_v, n_cand, dim=1, largest=False, sorted=True)
        best_v[lo:hi], best_i[lo:hi] = top, torch.gather(all_i, 1, pos)

    with _highest_matmul_precision():
        for i0 in range(0, n, _ROWS):
            i1 = min(n, i0 + _ROWS)
            for j0 in range(i0, n, _ROWS):
                j1 = min(n, j0 + _ROWS)
                d2 = torch.addmm(xn[i0:i1, None] + xn[None, j0:j1], xs[i0:i1], xs[j0:j1].T, alpha=-2.0)
                v, pos = torch.topk(d2, min(n_cand, j1 - j0), dim=1, largest=False, sorted=False)
                merge(i0, i1, v, pos + j0)
                if j0 != i0:
                    v, pos = torch.topk(d2, min(n_cand, i1 - i0), dim=0, largest=False, sorted=False)
                    merge(j0, j1, v.T, pos.T + i0)
    cand = best_i.cpu().numpy()
    exact = np.empty(cand.shape, dtype=np.float64)
    step = max(1, (64 * 2**20) // (8 * n_cand * dim))
    for s in range(0, n, step):
        rows = x[cand[s : s + step]].astype(np.float64) - np.asarray(x[s : s + step], np.float64)[:, None, :]
        exact[s : s + step] = np.sqrt(np.einsum("bcd,bcd->bc", rows, rows))
    exact.sort(axis=1)
    radii = exact[:, k]
    # Rigour check: any point outside the candidates has float32 d² >= the last candidate's, so its exact d² is at
    # least that minus the rounding bound; rows where this could undercut the radius are redone by brute force.
    tol = 1.1 * (dim + 16) * 2.0**-24 * (xn_np.astype(np.float64) + float(xn_np.max()))
    last = best_v[:, -1].cpu().numpy().astype(np.float64)
    doubtful = np.flatnonzero((last - tol <= radii**2) & (n_cand < n))
    for r in doubtful:
        d = _row_dist64(np.broadcast_to(x[r], x.shape), x)
        radii[r] = np.partition(d, k)[k]
    return radii


def manifold_radii(x: Any, k: int = 5, device: Any = None) -> np.ndarray:
    """Distance (float64, (N,)) of each row of ``x`` to its k-th nearest other row (Kynkäänniemi et al., eq. 2).

    As the prdc package this is the (k+1)-th smallest distance with the row itself (distance 0) included, so an
    exact duplicate counts as a neighbour at distance 0.
    """
    x = as_features(x, "features")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    enough_samples(x, k, "features")
    return _self_radii(x, k, device)


def _ball_statistics(
    real: np.ndarray,
    fake: np.ndarray,
    radii_real: np.ndarray | None,
    radii_fake: np.ndarray | None,
    strict: bool,
    device: Any,
) -> dict[str, np.ndarray]:
    """Per-sample ball memberships over real×fake tiles.

    Returns ``count_fake`` (per fake, number of real balls that contain it), ``covered_real`` (real i has a fake in
    its own ball) when ``radii_real`` is given, and ``recalled_real`` (real i lies in some fake ball) when
    ``radii_fake`` is given.
    """
    cmp = _cmp_dtype(real, fake)
    less = np.less if strict else np.less_equal
    dev = torch.device("cpu") if device is None else torch.device(device)
    n, m, dim = real.shape[0], fake.shape[0], real.shape[1]
    # Centring on a common point leaves distances unchanged and shrinks the norms that bound float32 rounding.
    shift = real.mean(axis=0, dtype=np.float64)
    rs_np, rn_np = _shifted32(real, shift)
    fs_np, fn_np = _shifted32(fake, shift)
    rs, rn = torch.from_numpy(rs_np).to(dev), torch.from_numpy(rn_np).to(dev)
    fs, fn = torch.from_numpy(fs_np).to(dev), torch.from_numpy(fn_np).to(dev)
    # |fl(d²) - d²| <= (dim + 16)·u·(|x|² + |y|²): the float32 GEMM in any summation order (Higham, eq. 3.5),
    # the float32 rounding of the centred features and of the norms, and the two additions; 10% on top for safety.
    # The float32 rounding of a squared radius adds u·r², bounded per tile below.
    unit = 2.0**-24
    bound = 1.1 * (dim + 16) * unit

    out: dict[str, np.ndarray] = {}
    thr_r = thr_f = None
    if radii_real is not None:
        rr_cmp = _decided(radii_real.astype(np.float64) ** 2, cmp)
        thr_r = torch.from_numpy(rr_cmp.astype(np.float64) ** 2).float().to(dev)
        out["count_fake"] = np.zeros(m, dtype=np.int64)
        out["covered_real"] = np.zeros(n, dtype=bool)
    if radii_fake is not None:
        rf_cmp = _decided(radii_fake.astype(np.float64) ** 2, cmp)
        thr_f = torch.from_numpy(rf_cmp.astype(np.float64) ** 2).float().to(dev)
        out["recalled_real"] = np.zeros(n, dtype=bool)

    with _highest_matmul_precision():
        for i0 in range(0, n, _ROWS):
            i1 = min(n, i0 + _ROWS)
            r_blk, rn_blk = rs[i0:i1], rn[i0:i1]
            for j0 in range(0, m, _COLS):
                j1 = min(m, j0 + _COLS)
                f_blk, fn_blk = fs[j0:j1], fn[j0:j1]
                d2 = torch.addmm(rn_blk[:, None] + fn_blk[None, :], r_blk, f_blk.T, alpha=-2.0)
                tol = bound * float(rn_blk.max() + fn_blk.max())
                if thr_r is not None:
                    tol += 2 * unit * float(thr_r[i0:i1].max())
                if thr_f is not None:
                    tol += 2 * unit * float(thr_f[j0:j1].max())
                masks = {}
                unsure = None
                if thr_r is not None:
                    t = thr_r[i0:i1, None]
                    masks["a"] = d2 < t
                    u = (d2 - t).abs_() <= tol
                    unsure = u
                if thr_f is not None:
                    t = thr_f[None, j0:j1]
                    masks["b"] = d2 < t
                    u = (d2 - t).abs_() <= tol
                    unsure = u if unsure is None else unsure | u
                del d2
                ii, jj = (t.cpu().numpy() for t in torch.nonzero(unsure, as_tuple=True))
                for s in range(0, ii.shape[0], _EXACT_PAIRS):
                    pi, pj = ii[s : s + _EXACT_PAIRS], jj[s : s + _EXACT_PAIRS]
                    exact = _decided(_row_sq64(real[i0 + pi], fake[j0 + pj]), cmp)
                    ti, tj = torch.from_numpy(pi).to(dev), torch.from_numpy(pj).to(dev)
                    if "a" in masks:
                        masks["a"][ti, tj] = torch.from_numpy(less(exact, rr_cmp[i0 + pi])).to(dev)
                    if "b" in masks:
                        masks["b"][ti, tj] = torch.from_numpy(less(exact, rf_cmp[j0 + pj])).to(dev)
                if "a" in masks:
                    out["count_fake"][j0:j1] += masks["a"].sum(0).cpu().numpy()
                    out["covered_real"][i0:i1] |= masks["a"].any(1).cpu().numpy()
                if "b" in masks:
                    out["recalled_real"][i0:i1] |= masks["b"].any(1).cpu().numpy()
    return out


def _prepare(real: Any, fake: Any, k: int, real_name: str = "real") -> tuple[np.ndarray, np.ndarray]:
    r = as_features(real, real_name)
    f = as_features(fake, "fake")
    same_dim(r, f, real_name, "fake")
    if r.dtype.kind != "f":
        r = r.astype(np.float64)
    if f.dtype.kind != "f":
        f = f.astype(np.float64)
    return r, f


def prdc(
    real: Any,
    fake: Any,
    k: int = 5,
    *,
    strict: bool = True,
    radii_real: np.ndarray | None = None,
    device: Any = None,
) -> dict[str, float]:
    """Precision, Recall (Kynkäänniemi et al., 2019, eqs. 1-3), Density and Coverage (Naeem et al., 2020, eqs. 3-4).

    Args:
        real, fake: feature arrays (N, D) and (M, D).
        k: neighbourhood size (5, the prdc package default and Naeem et al.'s recommendation).
        strict: ``<`` as the prdc package (default); ``False`` gives ``<=`` as Kynkäänniemi / StyleGAN2-ADA.
        radii_real: precomputed :func:`manifold_radii` of ``real`` (reuse across many evaluations).
        device: torch device for the real×fake tiles (``None``: CPU).

    Returns:
        ``{"precision", "recall", "density", "coverage"}`` as floats.
    """
    r, f = _prepare(real, fake, k)
    enough_samples(r, k, "real")
    enough_samples(f, k, "fake")
    if radii_real is None:
        radii_real = manifold_radii(r, k, device=device)
    elif np.shape(radii_real) != (r.shape[0],):
        raise ShapeError(f"radii_real must have shape ({r.shape[0]},); got {np.shape(radii_real)}.")
    radii_fake = manifold_radii(f, k, device=device)
    s = _ball_statistics(r, f, np.asarray(radii_real, np.float64), radii_fake, strict, device)
    return {
        "precision": float((s["count_fake"] > 0).mean()),
        "recall": float(s["recalled_real"].mean()),
        "density": float((1.0 / k) * s["count_fake"].mean()),
        "coverage": float(s["covered_real"].mean()),
    }


def precision_recall(real: Any, fake: Any, k: int = 5, *, strict: bool = True, device: Any = None) -> dict[str, float]:
    """Improved Precision and Recall (Kynkäänniemi et al., 2019) only; see :func:`prdc` for the arguments."""
    out = prdc(real, fake, k, strict=strict, device=device)
    return {"precision": out["precision"], "recall": out["recall"]}


def partial_recall(real_subset: Any, fake: Any, k: int = 3, *, strict: bool = True, device: Any = None) -> float:
    """Recall of a subset of the real data (Dia-GAN §3.2): the fraction of ``real_subset`` rows inside the k-NN
    manifold of the fakes.

    k=3 as Dia-GAN's ``compute_pr.py``. Fake radii depend only on the fakes, so this equals the recall of
    :func:`prdc` restricted to the subset's rows.
    """
    r, f = _prepare(real_subset, fake, k, "real_subset")
    enough_samples(f, k, "fake")
    radii_fake = manifold_radii(f, k, device=device)
    s = _ball_statistics(r, f, None, radii_fake, strict, device)
    return float(s["recalled_real"].mean())
