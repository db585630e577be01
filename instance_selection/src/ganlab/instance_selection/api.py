"""Instance selection end to end: embed a dataset (F), score it (H), keep the top rr% (eq. 4), save the indices.

>>> from ganlab.core.data import get_dataset
>>> ds = get_dataset("mnist5k", resolution=32)
>>> sel = select_instances(ds, SelectionConfig(embedding="random:lenet", retention_ratio=50))
>>> sel.save("runs/is/indices.npz"); len(sel), sel.kept_per_class[0]

The paper's default embedding is torchvision's ImageNet Inception-v3 after global average pooling, applied to the
*resized training image* bilinearly upsampled to 299 (``inception_torchvision``); Table 1 also uses a random-init
Inception-v3 (``random:inception``), a Places365 ResNet-50 and a ResNeXt-101 32x8d WSL (``torchvision:``/``hub:``
names documented in the configs; they need weights on disk). In-domain work uses ``classifier:<path>``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.errors import ConfigError
from ganlab.instance_selection import extractors as _extractors  # noqa: F401  (registers Table 1's embeddings)
from ganlab.instance_selection.scoring import SCORERS, ComponentRule, ScorerConfig, score_instances
from ganlab.instance_selection.selection import Selection, check_retention_ratio, kept_per_class, select

#: the baseline of Table 1: random scores, so the same thresholding keeps a uniformly random subset
UNIFORM = "uniform"


@dataclass
class SelectionConfig:
    """Everything that decides which instances are kept (its hash is stored in the index file)."""

    embedding: str = "inception_torchvision"
    embedding_options: dict[str, Any] = field(default_factory=dict)
    scorer: str = "gaussian"
    retention_ratio: float = 50.0
    per_class: bool = True
    reg_covar: float = 1e-5
    ppca_variance: float = 0.95
    ppca_rule: ComponentRule = "paper"
    k: int = 5
    batch_size: int = 128  # the official code embeds with the training batch size; features do not depend on it
    seed: int = 0  # only for the ``uniform`` baseline (a random subset of the same size, Table 1)

    def validate(self) -> None:
        check_retention_ratio(self.retention_ratio)
        if self.scorer != UNIFORM:
            SCORERS.get(self.scorer)  # unknown scorer -> RegistryError listing the names
            from ganlab.core.features import EXTRACTORS

            EXTRACTORS.get(self.embedding.partition(":")[0])  # unknown embedding -> RegistryError
        if self.ppca_rule not in ("paper", "official"):
            raise ConfigError(f"ppca_rule must be 'paper' or 'official', got {self.ppca_rule!r}")

    def scorer_config(self) -> ScorerConfig:
        return ScorerConfig(
            name=self.scorer,
            reg_covar=self.reg_covar,
            variance=self.ppca_variance,
            component_rule=self.ppca_rule,
            k=self.k,
        )

    def settings(self) -> dict[str, Any]:
        """The settings recorded in the index file (the scorer's irrelevant options are left out)."""
        out = {
            "embedding": self.embedding,
            "embedding_options": self.embedding_options,
            "scorer": self.scorer,
            "retention_ratio": float(self.retention_ratio),
            "per_class": self.per_class,
        }
        if self.scorer == UNIFORM:
            out.update(seed=self.seed, embedding=None, embedding_options={})
        else:
            out.update(self.scorer_config().kwargs())
        return out


def dataset_labels(dataset: Any, per_class: bool = True) -> np.ndarray | None:
    """The labels used for per-class selection, or None (unlabelled data or a global fit)."""
    if not per_class or not getattr(dataset, "num_classes", 0):
        return None
    return np.asarray(dataset.labels)


def embed_dataset(
    dataset: Any,
    embedding: str = "inception_torchvision",
    *,
    batch_size: int = 128,
    device: Any = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    **options: Any,
) -> np.ndarray:
    """F(x) for every instance of ``dataset``, float32 (N, D), through ``ganlab.core.features``."""
    from ganlab.core.features import extract_features, get_extractor

    extractor = get_extractor(embedding, **options)
    return extract_features(
        extractor, dataset, batch_size=batch_size, device=device, cache_dir=cache_dir, progress=progress
    )


def select_instances(
    dataset: Any,
    config: SelectionConfig | None = None,
    *,
    features: np.ndarray | None = None,
    index_file: str | Path | None = None,
    device: Any = None,
    cache_dir: str | Path | None = None,
    progress: bool = False,
    **overrides: Any,
) -> Selection:
    """Run instance selection on ``dataset`` and return the :class:`Selection` (kept indices + provenance).

    ``features`` skips the embedding step (rows in dataset order). ``index_file``: reuse it when it was made from
    this dataset with the same settings (as the official code reuses its saved indices), otherwise compute and
    write it. ``overrides`` replace fields of ``config``.
    """
    cfg = config or SelectionConfig()
    if overrides:
        cfg = SelectionConfig(**{**asdict(cfg), **overrides})
    cfg.validate()
    settings = cfg.settings()
    if index_file is not None and Path(index_file).is_file():
        cached = Selection.load(index_file)
        if cached.dataset_fingerprint == dataset.fingerprint and cached.settings_fingerprint == _fp(settings):
            return cached
    labels = dataset_labels(dataset, cfg.per_class)
    if cfg.scorer == UNIFORM:
        scores = np.random.default_rng(cfg.seed).random(len(dataset))
    else:
        scores = _density_scores(dataset, cfg, features, labels, device, cache_dir, progress)
    indices = select(scores, labels, cfg.retention_ratio, per_class=cfg.per_class)
    all_labels = np.asarray(dataset.labels) if getattr(dataset, "num_classes", 0) else None
    sel = Selection(
        indices=indices,
        dataset_fingerprint=dataset.fingerprint,
        dataset_size=len(dataset),
        settings=settings,
        scores=scores,
        kept_per_class=kept_per_class(indices, all_labels, len(dataset)),
    )
    if index_file is not None:
        sel.save(index_file)
    return sel


def _density_scores(
    dataset: Any,
    cfg: SelectionConfig,
    features: np.ndarray | None,
    labels: np.ndarray | None,
    device: Any,
    cache_dir: Any,
    progress: bool,
) -> np.ndarray:
    if features is None:
        features = embed_dataset(
            dataset,
            cfg.embedding,
            batch_size=cfg.batch_size,
            device=device,
            cache_dir=cache_dir,
            progress=progress,
            **cfg.embedding_options,
        )
    if len(features) != len(dataset):
        raise ConfigError(f"{len(features)} feature rows for a dataset of {len(dataset)} instances")
    return score_instances(features, labels, cfg.scorer_config(), device=device, progress=progress)


def _fp(settings: dict[str, Any]) -> str:
    from ganlab.instance_selection.selection import settings_fingerprint

    return settings_fingerprint(settings)
