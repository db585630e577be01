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


def _batches(source: Any, n: int, batch_size: int, batch_ids: range) -> Iterator[torch.Tensor]:
    """The image batches ``batch_ids`` of the global layout [0, bs), [bs, 2 bs), ... of ``n`` images."""
    spans = [(j * batch_size, min((j + 1) * batch_size, n)) for j in batch_ids]
    if hasattr(source, "get_batch"):
        for a, b in spans:
            yield source.get_batch(np.arange(a, b))["image"]
    elif torch.is_tensor(source) or isinstance(source, np.ndarray):
        t = torch.as_tensor(source)
        for a, b in spans:
            yield t[a:b]
    elif callable(source):
        for a, b in spans:
            x = source(b - a)
            if not torch.is_tensor(x) or x.shape[0] != b - a:
                got = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
                raise ShapeError(f"the image function returned {got} for a request of {b - a} images")
            yield x
    elif hasattr(source, "__getitem__") and hasattr(source, "__len__"):
        for a, b in spans:
            yield torch.stack([source[i]["image"] for i in range(a, b)])
    else:
        raise ConfigError(
            f"cannot extract features from a {type(source).__name__}; pass a GanDataset, a (N, C, H, W) tensor or "
            "a function fn(batch_size) -> images"
        )


def _world() -> tuple[int, int]:
    """(rank, world size) of the initialised torch.distributed group, else (0, 1)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _gather_batches(local: torch.Tensor, n: int, batch_size: int, world: int, device: torch.device) -> np.ndarray:
    """Reassemble per-rank batches (rank r holds global batches r, r + W, ...) into (n, D) on every rank."""
    import torch.distributed as dist

    # gloo gathers CPU tensors, nccl device tensors
    comm_device = device if dist.get_backend() == "nccl" else torch.device("cpu")
    gathered = [torch.empty_like(local, device=comm_device) for _ in range(world)]
    dist.all_gather(gathered, local.to(comm_device))
    stacked = torch.stack(gathered).cpu()  # (W, max_batches, bs, D)
    num_batches = -(-n // batch_size)
    order = [stacked[j % world, j // world] for j in range(num_batches)]
    return torch.cat(order)[:n].numpy()


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
    distributed: bool = False,
) -> np.ndarray:
    """Features (n, extractor.dim) float32 of ``n`` images from ``source``.

    ``source``: a GanDataset (images read with ``get_batch``, first ``n`` items in index order), a tensor or array
    (N, C, H, W) in [-1, 1], or a function ``fn(batch_size) -> images`` (a generator; ``n`` required, fakes are
    streamed). ``quantize`` rounds images to uint8 levels first, as a saved PNG would be; by default it is on for
    generator functions (the clean-fid / StyleGAN2-ADA protocol for fakes) and off for stored data.
    ``device`` defaults to Accelerate's device for this process. ``cache_dir`` caches by source identity; a
    generator function is cached only with ``cache_key_extra`` set (e.g. checkpoint hash + seed), since the function
    itself has no stable identity. ``distributed=True`` under several processes (torch.distributed initialised, e.g.
    by Accelerate): every process must call this; process r extracts batches r, r + W, ... (a generator function
    makes only its own share, so seed it per process) and every process gets all n rows, in batch order.
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
    batch_size = min(batch_size, n)  # a tiny n need not be padded to a large batch

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
    rank, world = _world() if distributed else (0, 1)
    num_batches = -(-n // batch_size)
    mine = range(rank, num_batches, world)
    # local rows: whole batches, the last one padded, so all ranks hold the same shape for the gather
    local = torch.zeros((-(-num_batches // world), batch_size, extractor.dim), dtype=torch.float32)
    produced = 0
    with tf32_disabled(), torch.inference_mode():
        total = sum(min(batch_size, n - j * batch_size) for j in mine)
        bar = tqdm(total=total, desc=f"features {extractor.name}", unit="img", disable=not progress, leave=False)
        for slot, x in enumerate(_batches(source, n, batch_size, mine)):
            x = torch.as_tensor(x).to(device)
            check_images(x)
            if quantize:
                x = quantize_uint8(x)
            k = x.shape[0]
            if k < batch_size:  # pad the last batch so that every forward pass has the same shape
                x = torch.cat([x, x[-1:].expand(batch_size - k, *x.shape[1:])])
            f = extractor(x)
            if f.ndim != 2 or f.shape[1] != extractor.dim:
                raise ShapeError(f"{extractor.name} returned {tuple(f.shape)}, expected (B, {extractor.dim})")
            local[slot] = f.float().cpu()
            produced += k
            bar.update(k)
        bar.close()
    if produced != total:
        raise DatasetError(f"the source produced {produced} images, expected {total}")
    if world > 1:
        out = _gather_batches(local, n, batch_size, world, device)
    else:
        out = local.reshape(-1, extractor.dim)[:n].numpy()

    if path is not None and rank == 0:
        buf = io.BytesIO()
        np.save(buf, out)
        atomic_write_bytes(path, buf.getvalue())
        meta = {"n": n, "dim": extractor.dim, "quantize": quantize, **extractor.protocol()}
        atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=2, default=str))
    if world > 1 and path is not None:
        import torch.distributed as dist

        dist.barrier()  # no process may look for this cache file before it is complete
    return out
