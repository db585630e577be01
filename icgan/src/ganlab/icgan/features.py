"""Instance features h_i = f_phi(x_i) (IC-GAN §2): extracted once, streamed to disk, L2-normalised at load.

The official preprocessing (``make_hdf5.py``) runs the extractor on the *training-resolution* image (e.g. 64x64 in
[-1, 1]) after ImageNet normalisation, upsampled bicubic to 224 (core's ``swav`` and ``resnet50`` extractors do
exactly this), and also stores the features of the horizontally flipped image (``feature_augmentation``). Raw
features are stored; G, D, the kNN and k-means all use unit vectors.

A feature folder holds ``features.npy`` (float32 (N, D), raw), optionally ``features_hflip.npy`` and
``features.json`` (extractor protocol, dataset fingerprint, and the content fingerprint that neighbour and
stored-instance files must match). The arrays are written batch by batch into memory-mapped files, so neither the
images nor the features of a 1.28M-image dataset are ever all in RAM; a folder is written under a temporary name
and renamed when complete, so a failed extraction leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError, DatasetError, ShapeError
from ganlab.core.results import atomic_write_text

FORMAT = "ganlab-icgan-features/1"
_NORM_CHUNK = 65536  # rows per chunk when computing norms or copying normalised rows


class FeatureMismatchError(DatasetError):
    """A neighbour, stored-instance or feature file does not belong to the features or dataset it is used with."""


def _hash_update(h: Any, block: np.ndarray) -> None:
    h.update(np.ascontiguousarray(block, dtype=np.float32).tobytes())


def row_norms(x: np.ndarray, chunk: int = _NORM_CHUNK) -> np.ndarray:
    """float32 L2 norms of the rows of ``x`` (a memmap is read in chunks); zero rows get norm 1 (they stay 0)."""
    out = np.empty(x.shape[0], dtype=np.float32)
    for s in range(0, x.shape[0], chunk):
        blk = np.asarray(x[s : s + chunk], dtype=np.float64)
        out[s : s + chunk] = np.sqrt(np.einsum("nd,nd->n", blk, blk))
    out[out == 0] = 1.0
    return out


def unit_rows(x: np.ndarray, out: np.ndarray | None = None, chunk: int = _NORM_CHUNK) -> np.ndarray:
    """``x`` with every row divided by its L2 norm, chunk by chunk into ``out`` (a float32 array or memmap)."""
    if out is None:
        out = np.empty(x.shape, dtype=np.float32)
    for s in range(0, x.shape[0], chunk):
        blk = np.asarray(x[s : s + chunk], dtype=np.float64)
        n = np.sqrt(np.einsum("nd,nd->n", blk, blk))
        n[n == 0] = 1.0
        out[s : s + chunk] = (blk / n[:, None]).astype(np.float32)
    return out


@dataclass
class InstanceFeatures:
    """Raw instance features (and their h-flipped twins) with per-row norms: ``get`` returns unit vectors.

    ``raw`` / ``raw_flip`` may be memory-mapped; only the rows asked for are read.
    """

    raw: np.ndarray
    raw_flip: np.ndarray | None
    meta: dict[str, Any]
    path: Path | None = None

    def __post_init__(self) -> None:
        if self.raw.ndim != 2:
            raise ShapeError(f"instance features must be 2-D (N, D), got shape {self.raw.shape}")
        if self.raw_flip is not None and self.raw_flip.shape != self.raw.shape:
            raise ShapeError(f"flipped features {self.raw_flip.shape} do not match the features {self.raw.shape}")
        for name, arr in (("features", self.raw), ("flipped features", self.raw_flip)):
            if arr is None:
                continue
            for s in range(0, arr.shape[0], _NORM_CHUNK):
                if not np.isfinite(arr[s : s + _NORM_CHUNK]).all():
                    from ganlab.core.errors import NonFiniteError

                    raise NonFiniteError(f"the {name} contain NaN or infinite values (rows from {s}); re-extract them")
        self.norms = row_norms(self.raw)
        self.norms_flip = row_norms(self.raw_flip) if self.raw_flip is not None else None
        self.meta.setdefault("fingerprint", content_fingerprint(self.raw, self.raw_flip))

    # ------------------------------------------------------------------------------------------------ access
    def __len__(self) -> int:
        return int(self.raw.shape[0])

    @property
    def dim(self) -> int:
        return int(self.raw.shape[1])

    @property
    def fingerprint(self) -> str:
        return str(self.meta["fingerprint"])

    @property
    def dataset_fingerprint(self) -> str | None:
        return self.meta.get("dataset_fingerprint")

    @property
    def has_flip(self) -> bool:
        return self.raw_flip is not None

    def get(self, idx: np.ndarray, flip: np.ndarray | None = None) -> torch.Tensor:
        """Unit features (len(idx), D) float32; rows where ``flip`` is True come from the flipped image."""
        idx = np.asarray(idx, dtype=np.int64)
        out = np.asarray(self.raw[idx], dtype=np.float32) / self.norms[idx, None]
        if flip is not None and self.raw_flip is not None and np.any(flip):
            sel = idx[flip]
            out[flip] = np.asarray(self.raw_flip[sel], dtype=np.float32) / self.norms_flip[sel, None]
        return torch.from_numpy(out)

    def unit(self, out: np.ndarray | None = None) -> np.ndarray:
        """All unit features (N, D) float32 (into ``out``, e.g. a memmap, for datasets larger than RAM)."""
        return unit_rows(self.raw, out)

    def check_dataset(self, dataset: Any) -> None:
        """Refuse features extracted from another dataset (size or fingerprint)."""
        if len(dataset) != len(self):
            raise FeatureMismatchError(
                f"the instance features hold {len(self)} rows but the dataset has {len(dataset)} items; extract "
                "them from this dataset (`ganlab icgan features`)"
            )
        fp = getattr(dataset, "fingerprint", None)
        if self.dataset_fingerprint and fp and fp != self.dataset_fingerprint:
            raise FeatureMismatchError(
                f"the instance features were extracted from dataset {self.dataset_fingerprint}, not from this one "
                f"({fp}); extract them from this dataset"
            )

    # -------------------------------------------------------------------------------------------- save/load
    @classmethod
    def from_arrays(
        cls, raw: Any, raw_flip: Any = None, meta: dict[str, Any] | None = None, dataset: Any = None
    ) -> InstanceFeatures:
        """Features given in memory (e.g. a user's own embedding); raw, not necessarily normalised."""
        raw = np.asarray(raw.detach().cpu() if torch.is_tensor(raw) else raw, dtype=np.float32)
        if raw_flip is not None:
            raw_flip = np.asarray(raw_flip.detach().cpu() if torch.is_tensor(raw_flip) else raw_flip, np.float32)
        meta = dict(meta or {})
        if dataset is not None:
            meta.setdefault("dataset_fingerprint", getattr(dataset, "fingerprint", None))
        return cls(raw, raw_flip, meta)

    @classmethod
    def load(cls, path: str | Path, mmap: bool = True) -> InstanceFeatures:
        """A feature folder written by :func:`extract_instance_features` (memory-mapped by default)."""
        path = Path(path)
        meta_file = path / "features.json"
        if not meta_file.is_file():
            raise DatasetError(
                f"{path} is not an instance-feature folder (no features.json); run `ganlab icgan features`"
            )
        meta = json.loads(meta_file.read_text())
        if meta.get("format") != FORMAT:
            raise DatasetError(f"{meta_file} has format {meta.get('format')!r}, expected {FORMAT!r}")
        mode = "r" if mmap else None
        raw = np.load(path / "features.npy", mmap_mode=mode)
        flip = np.load(path / "features_hflip.npy", mmap_mode=mode) if (path / "features_hflip.npy").is_file() else None
        return cls(raw, flip, meta, path)


def content_fingerprint(raw: np.ndarray, raw_flip: np.ndarray | None = None) -> str:
    """sha256 (first 16 hex digits) of the float32 bytes of the features (and flipped features), chunk by chunk."""
    h = hashlib.sha256()
    h.update(str(tuple(raw.shape)).encode())
    for arr in (raw, raw_flip):
        if arr is None:
            continue
        for s in range(0, arr.shape[0], _NORM_CHUNK):
            _hash_update(h, arr[s : s + _NORM_CHUNK])
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------------------------- extraction
class _Chunks(torch.utils.data.Dataset):
    """Batch ``j`` of a dataset as one item, so a DataLoader's workers decode whole batches in parallel."""

    def __init__(self, dataset: Any, batch_size: int) -> None:
        self.dataset, self.batch_size = dataset, batch_size

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)

    def __getitem__(self, j: int) -> torch.Tensor:
        a = j * self.batch_size
        return self.dataset.get_batch(np.arange(a, min(a + self.batch_size, len(self.dataset))))["image"]


def extractor_of(features: InstanceFeatures, options: dict[str, Any] | None = None) -> Any:
    """The extractor that produced ``features`` (to embed new images in the same space, e.g. for transfer)."""
    spec = features.meta.get("extractor_spec")
    if not spec:
        raise DatasetError("these features do not record their extractor; pass the extractor by name")
    keep = ("output", "image_size") + (("seed", "in_channels") if str(spec).startswith("random:") else ())
    opts = {k: v for k, v in (features.meta.get("extractor_options") or {}).items() if k in keep}
    return resolve_extractor(spec, {**opts, **(options or {})})


def resolve_extractor(name: str, options: dict[str, Any] | None = None) -> Any:
    """A core feature extractor by name (``swav``, ``resnet50``, ``classifier:<path>``, ``random:<arch>``...)."""
    from ganlab.core.features import get_extractor

    return get_extractor(name, **(options or {}))


@torch.no_grad()
def extract_instance_features(
    dataset: Any,
    extractor: Any,
    out: str | Path,
    *,
    flip: bool = True,
    batch_size: int = 256,
    num_workers: int = 0,
    device: torch.device | str | None = None,
    progress: bool = True,
    overwrite: bool = False,
    spec: str | None = None,
) -> InstanceFeatures:
    """Extract the (raw) features of every dataset item, and of its h-flipped image, into the folder ``out``.

    ``extractor`` is a core :class:`~ganlab.core.features.FeatureExtractor` or a name for :func:`resolve_extractor`.
    The images are the dataset's own (the training resolution), in index order. Returns the loaded features.
    """
    from tqdm.auto import tqdm

    from ganlab.core.features.extract import check_images, tf32_disabled

    if isinstance(extractor, str):
        spec = spec or extractor
        extractor = resolve_extractor(extractor)
    out = Path(out)
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} already exists; pass overwrite=True (--overwrite) or choose another folder")
    n = len(dataset)
    if n == 0:
        raise DatasetError("the dataset is empty: no instance features to extract")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    if device is None:
        from ganlab.core.features.classifier import _default_device

        device = _default_device()
    device = torch.device(device)
    if spec is None and not str(extractor.name).startswith("classifier:"):
        spec = extractor.name  # a registry name rebuilds it (a classifier needs its path, given as spec)
    extractor = extractor.to(device).eval()
    dim = int(extractor.dim)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        feats = np.lib.format.open_memmap(tmp / "features.npy", mode="w+", dtype=np.float32, shape=(n, dim))
        feats_f = (
            np.lib.format.open_memmap(tmp / "features_hflip.npy", mode="w+", dtype=np.float32, shape=(n, dim))
            if flip
            else None
        )
        loader = torch.utils.data.DataLoader(
            _Chunks(dataset, batch_size), batch_size=None, num_workers=num_workers, shuffle=False
        )
        row = 0
        bar = tqdm(total=n, desc=f"instance features {extractor.name}", unit="img", disable=not progress)
        with tf32_disabled():
            for x in loader:
                x = x.to(device)
                check_images(x, "dataset images")
                k = x.shape[0]
                f = extractor(x).float().cpu().numpy()
                if f.shape != (k, dim):
                    raise ShapeError(f"{extractor.name} returned {f.shape}, expected ({k}, {dim})")
                feats[row : row + k] = f
                if feats_f is not None:
                    feats_f[row : row + k] = extractor(torch.flip(x, dims=[3])).float().cpu().numpy()
                row += k
                bar.update(k)
        bar.close()
        if row != n:
            raise DatasetError(f"the dataset produced {row} images, expected {n}")
        feats.flush()
        if feats_f is not None:
            feats_f.flush()
        meta = {
            "format": FORMAT,
            "n": n,
            "dim": dim,
            "flip": flip,
            "dataset": getattr(dataset, "name", type(dataset).__name__),
            "dataset_fingerprint": getattr(dataset, "fingerprint", None),
            "shape": list(getattr(dataset, "shape", ()) or ()),
            "fingerprint": content_fingerprint(feats, feats_f),
            "preprocessing": "training-resolution image in [-1, 1]; the extractor's own normalisation and resize",
            **extractor.protocol(),
            "extractor_spec": spec,  # the name to rebuild the extractor with (transfer)
            "extractor_options": extractor.options,
        }
        del feats, feats_f
        atomic_write_text(tmp / "features.json", json.dumps(meta, indent=2, default=str))
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return InstanceFeatures.load(out)


def save_features(features: InstanceFeatures, out: str | Path) -> Path:
    """Write in-memory features as a feature folder (atomic rename), e.g. a user's own embedding."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        np.save(tmp / "features.npy", np.asarray(features.raw, dtype=np.float32))
        if features.raw_flip is not None:
            np.save(tmp / "features_hflip.npy", np.asarray(features.raw_flip, dtype=np.float32))
        meta = {"format": FORMAT, "n": len(features), "dim": features.dim, "flip": features.has_flip, **features.meta}
        meta["format"] = FORMAT
        atomic_write_text(tmp / "features.json", json.dumps(meta, indent=2, default=str))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def cached_instance_features(
    dataset: Any,
    extractor_name: str,
    cache_dir: str | Path,
    *,
    extractor_options: dict[str, Any] | None = None,
    flip: bool = True,
    batch_size: int = 256,
    device: Any = None,
    progress: bool = True,
    expected_dim: int | None = None,
) -> InstanceFeatures:
    """Features of ``dataset`` by ``extractor_name`` from ``cache_dir`` (keyed by dataset and extractor), extracted
    when missing. ``expected_dim`` (the model's feat_dim) is checked before any extraction."""
    ext = resolve_extractor(extractor_name, extractor_options)
    if expected_dim is not None and int(ext.dim) != int(expected_dim):
        raise ShapeError(
            f"extractor {extractor_name!r} gives {ext.dim}-d features but the model is conditioned on {expected_dim}-d "
            f"instance features (model.options.feat_dim); set feat_dim: {ext.dim} or choose another extractor"
        )
    key = hashlib.sha256(
        json.dumps(
            {"dataset": getattr(dataset, "fingerprint", None), "n": len(dataset), "ext": ext.cache_id, "flip": flip},
            sort_keys=True,
        ).encode()
    ).hexdigest()[:16]
    folder = Path(cache_dir) / f"features_{key}"
    if (folder / "features.json").is_file():
        feats = InstanceFeatures.load(folder)
        feats.check_dataset(dataset)
        return feats
    return extract_instance_features(
        dataset,
        ext,
        folder,
        flip=flip,
        batch_size=batch_size,
        device=device,
        progress=progress,
        overwrite=True,
        spec=extractor_name,
    )
