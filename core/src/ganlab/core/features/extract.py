"""Batched feature extraction from a dataset, a tensor or a generator, with an on-disk cache.

- Fixed batch size; the last batch is padded to full size so every forward pass has the same shape (convolution
  algorithms and hence float results can depend on the batch shape).
- TF32 is switched off during extraction (torch-fidelity #43: Inception outputs drift with TF32/cuDNN choices).
- Generated images are streamed batch by batch; only the (n, dim) features are kept.
- Images must be float in [-1, 1]; anything else is refused with one error (NaN included).
- Cache: ``<cache_dir>/<key>.npy`` + ``.json`` where the key hashes the source identity (dataset fingerprint,
  tensor content, or an explicit ``cache_key``), n, the extractor (name, weights hash, preprocessing, options) and
  quantisation. Writes are atomic.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError, DatasetError, ShapeError
from ganlab.core.features.extractors import FeatureExtractor, quantize_uint8
from ganlab.core.results import atomic_write_bytes, atomic_write_text

ImageFn = Callable[[int], torch.Tensor]
RANGE_TOL = 1e-3  # float rounding of tanh outputs or of u/127.5 - 1


@contextlib.contextmanager
def tf32_disabled() -> Iterator[None]:
    """Turn TF32 off for matmuls and cuDNN convolutions, restoring the previous flags afterwards."""
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def check_images(x: torch.Tensor, what: str = "images") -> None:
    """Raise ShapeError unless ``x`` is a float (B, C, H, W) batch with all values in [-1, 1]."""
    if not torch.is_tensor(x) or x.ndim != 4:
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ShapeError(f"{what} must be a (B, C, H, W) tensor, got {shape}")
    if not x.is_floating_point():
        raise ShapeError(f"{what} have dtype {x.dtype}; pass float images in [-1, 1] (for uint8 use x / 127.5 - 1)")
    lo, hi = torch.aminmax(x.detach())
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ShapeError(f"{what} contain NaN or infinite values")
    if lo < -1 - RANGE_TOL or hi > 1 + RANGE_TOL:
        hint = " (they look like [0, 255]: use x / 127.5 - 1)" if hi > 2 else ""
        hint = hint or (" (they look like [0, 1]: use 2 * x - 1)" if lo >= 0 else "")
        raise ShapeError(f"{what} must lie in [-1, 1], got values in [{lo:.4g}, {hi:.4g}]{hint}")


def _default_device() -> torch.device:
    from ganlab.core.features.classifier import _default_device as accelerate_device

    return accelerate_device()


def _source_identity(source: Any, n: int) -> str | None:
    """A stable identity of the source for the cache, or None when it has none (a generator)."""
    fp = getattr(source, "fingerprint", None)
    if isinstance(fp, str):
        return f"dataset:{fp}"
    if torch.is_tensor(source) or isinstance(source, np.ndarray):
        arr = source.detach().cpu().numpy() if torch.is_tensor(source) else source
        h = hashlib.sha256()
        h.update(str((arr.shape, str(arr.dtype))).encode())
        h.update(np.ascontiguousarray(arr[:n]).tobytes())
        return f"tensor:{h.hexdigest()}"
    return None


def cache_key(identity: str, extractor: FeatureExtractor, n: int, quantize: bool, extra: Any = None) -> str:
    payload = json.dumps(
        {"source": identity, "extractor": extractor.cache_id, "n": n, "quantize": quantize, "extra": extra},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _batches(source: Any, n: int, batch_size: int) -> Iterator[torch.Tensor]:
    if hasattr(source, "get_batch"):
        for start in range(0, n, batch_size):
            idx = np.arange(start, min(start + batch_size, n))
            yield source.get_batch(idx)["image"]
    elif torch.is_tensor(source) or isinstance(source, np.ndarray):
        t = torch.as_tensor(source)
        for start in range(0, n, batch_size):
            yield t[start : start + batch_size]
    elif callable(source):
        done = 0
        while done < n:
            k = min(batch_size, n - done)
            x = source(k)
            if not torch.is_tensor(x) or x.shape[0] != k:
                got = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
                raise ShapeError(f"the image function returned {got} for a request of {k} images")
            done += k
            yield x
    elif hasattr(source, "__getitem__") and hasattr(source, "__len__"):
        for start in range(0, n, batch_size):
            yield torch.stack([source[i]["image"] for i in range(start, min(start + batch_size, n))])
    else:
        raise ConfigError(
            f"cannot extract features from a {type(source).__name__}; pass a GanDataset, a (N, C, H, W) tensor or "
            "a function fn(batch_size) -> images"
        )


def extract_features(
    extractor: FeatureExtractor,
    source: Any,
    *,
    batch_size: int = 64,
    n: int | None = None,
    device: torch.device | str | None = None,
    cache_dir: str | Path | None = None,
    cache_key_extra: Any = None,
    quantize: bool | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Features (n, extractor.dim) float32 of ``n`` images from ``source``.

    ``source``: a GanDataset (images read with ``get_batch``, first ``n`` items in index order), a tensor or array
    (N, C, H, W) in [-1, 1], or a function ``fn(batch_size) -> images`` (a generator; ``n`` required, fakes are
    streamed). ``quantize`` rounds images to uint8 levels first, as a saved PNG would be; by default it is on for
    generator functions (the clean-fid / StyleGAN2-ADA protocol for fakes) and off for stored data.
    ``device`` defaults to Accelerate's device for this process. ``cache_dir`` caches by source identity; a
    generator function is cached only with ``cache_key_extra`` set (e.g. checkpoint hash + seed), since the function
    itself has no stable identity.
    """
    from tqdm.auto import tqdm

    is_fn = callable(source) and not hasattr(source, "get_batch") and not torch.is_tensor(source)
    if n is None:
        if is_fn:
            raise ConfigError("n (the number of images to generate) is required when the source is a function")
        n = len(source)
    if not is_fn and n > len(source):
        raise DatasetError(f"asked for {n} images but the source holds only {len(source)}")
    if n <= 0:
        raise ConfigError(f"n must be positive, got {n}")
    if batch_size <= 0:
        raise ConfigError(f"batch_size must be positive, got {batch_size}")
    if quantize is None:
        quantize = is_fn

    path = None
    if cache_dir is not None:
        identity = _source_identity(source, n) if not is_fn else None
        if identity is None and cache_key_extra is not None:
            identity = "generator"
        if identity is not None:
            key = cache_key(identity, extractor, n, quantize, cache_key_extra)
            path = Path(cache_dir) / f"{key}.npy"
            if path.is_file():
                feats = np.load(path)
                if feats.shape == (n, extractor.dim):
                    return feats

    device = torch.device(device) if device is not None else _default_device()
    extractor = extractor.to(device).eval()
    out = np.empty((n, extractor.dim), dtype=np.float32)
    pos = 0
    with tf32_disabled(), torch.inference_mode():
        bar = tqdm(total=n, desc=f"features {extractor.name}", unit="img", disable=not progress, leave=False)
        for x in _batches(source, n, batch_size):
            x = torch.as_tensor(x).to(device)
            check_images(x)
            if quantize:
                x = quantize_uint8(x)
            k = x.shape[0]
            if k < batch_size:  # pad the last batch so that every forward pass has the same shape
                x = torch.cat([x, x[-1:].expand(batch_size - k, *x.shape[1:])])
            f = extractor(x)[:k]
            if f.ndim != 2 or f.shape[1] != extractor.dim:
                raise ShapeError(f"{extractor.name} returned {tuple(f.shape)}, expected (B, {extractor.dim})")
            out[pos : pos + k] = f.float().cpu().numpy()
            pos += k
            bar.update(k)
        bar.close()
    if pos != n:
        raise DatasetError(f"the source produced {pos} images, expected {n}")

    if path is not None:
        buf = io.BytesIO()
        np.save(buf, out)
        atomic_write_bytes(path, buf.getvalue())
        meta = {"n": n, "dim": extractor.dim, "quantize": quantize, **extractor.protocol()}
        atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=2, default=str))
    return out
