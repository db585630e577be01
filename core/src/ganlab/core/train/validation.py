"""The checks every training run passes before it touches its run directory, whatever started it (``Trainer`` from
Python, ``ganlab train``, ``ganlab diagan train``, ``ganlab gold train``, the repro harness: all build a Trainer).

Each rejection is one :class:`~ganlab.core.errors.GanlabError` saying what was seen and what is expected:

- :func:`check_config`: the config as a whole, also when it was built or edited in Python (``train.steps = 0``
  never reached the YAML loader's checks);
- :func:`check_run`, once the dataset and models exist: the dataset follows the protocol; the batch is not larger
  than the dataset; images lie in ganlab's [-1, 1] and not in [0, 1] (``ToTensor()`` images adapted with the default
  ``value_range=(-1, 1)``); G and D follow the model contract (:func:`ganlab.core.nn.check_models`). G's samples
  outside the data's range only warn (an untrained G without tanh may still learn the range).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from ganlab.core.errors import ConfigError

__all__ = ["DATA_RANGE", "check_config", "check_run"]

DATA_RANGE = (-1.0, 1.0)  # every image dataset is scaled to this range; G ends in tanh
_TOL = 1e-3
_PROBE = 256  # items read to check the data's range (spread over the dataset)


def check_config(cfg: Any) -> None:
    """Re-run every section's own checks on ``cfg`` (a :class:`ConfigError` naming the key)."""
    from ganlab.core.config import from_dict, to_dict

    from_dict(type(cfg), to_dict(cfg))


def _probe(ds: Any) -> torch.Tensor:
    n = len(ds)
    idx = torch.linspace(0, n - 1, min(n, _PROBE)).round().long().unique().tolist()
    return ds.get_batch(idx)["image"].float()


def check_data(cfg: Any, ds: Any) -> None:
    """The dataset follows the protocol, holds at least one batch, and its images lie in [-1, 1] (not [0, 1])."""
    from ganlab.core.nn.protocol import ContractError

    shape = tuple(getattr(ds, "shape", ()) or ())
    if not hasattr(ds, "get_batch") or not shape:
        raise ContractError(
            f"the dataset ({type(ds).__name__}) does not follow the ganlab dataset protocol (get_batch, shape, "
            "labels); wrap it: ganlab.core.data.from_torch(dataset, name=...)"
        )
    n, batch = len(ds), cfg.train.batch_size
    if batch > n:
        raise ConfigError(
            f"train.batch_size={batch} is larger than the dataset {cfg.data.name!r} ({n} items); every batch would "
            f"repeat items. Use train.batch_size <= {n}"
        )
    if len(shape) != 3:
        return  # vectors (toy data) have no fixed range
    x = _probe(ds)
    lo, hi = float(x.min()), float(x.max())
    want = f"[{DATA_RANGE[0]:g}, {DATA_RANGE[1]:g}]"
    if lo < DATA_RANGE[0] - _TOL or hi > DATA_RANGE[1] + _TOL:
        raise ContractError(
            f"the images of dataset {cfg.data.name!r} lie in [{lo:.3g}, {hi:.3g}], but ganlab expects {want} (G ends "
            "in tanh); adapt them with from_torch(..., value_range=(0, 255)) or scale them to [-1, 1]"
        )
    if lo >= -_TOL and hi > 0.5:
        raise ContractError(
            f"the images of dataset {cfg.data.name!r} lie in [{lo:.3g}, {hi:.3g}], which looks like [0, 1] (a bare "
            f"ToTensor()), but ganlab expects {want}: adapt them with from_torch(..., value_range=(0, 1)), or "
            "normalise with Normalize(0.5, 0.5)"
        )


def warn_output_range(G: torch.nn.Module, ds: Any, device: torch.device) -> None:
    """Warn when G's first samples leave the data's range (images: [-1, 1])."""
    if len(tuple(getattr(ds, "shape", ()) or ())) != 3:
        return
    z_dim = int(getattr(G, "z_dim", 0) or 0)
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(8, z_dim, generator=gen).to(device)
    k = int(getattr(G, "num_classes", 0) or 0)
    y = (torch.arange(8) % k).to(device) if k else None
    feat_dim = int(getattr(G, "feat_dim", 0) or 0)
    feat = torch.zeros(8, feat_dim, device=device) if feat_dim else None
    was = G.training
    G.eval()
    try:
        with torch.no_grad():
            out = G(z, y=y, feat=feat)
    finally:
        G.train(was)
    lo, hi = float(out.min()), float(out.max())
    if lo < DATA_RANGE[0] - _TOL or hi > DATA_RANGE[1] + _TOL:
        warnings.warn(
            f"G's samples lie in [{lo:.3g}, {hi:.3g}] but the data lie in [{DATA_RANGE[0]:g}, {DATA_RANGE[1]:g}]; "
            "end G with tanh so that it can match the data",
            stacklevel=3,
        )


def check_run(trainer: Any) -> None:
    """Every check that needs the dataset and the models (see the module docstring); no state changes."""
    from ganlab.core.nn.protocol import ContractError, check_models

    cfg, ds = trainer.cfg, trainer.dataset
    check_data(cfg, ds)
    where = f"backbone {cfg.model.backbone!r}" if cfg.model.backbone != "custom" else "your models"
    if cfg.loss.class_weight and not trainer.num_classes:
        raise ContractError(f"{where}: loss.class_weight (ACGAN) needs a class-conditional G (num_classes > 0)")
    real = ds.get_batch(list(range(min(2, len(ds)))))["image"]
    G, D = trainer.unwrap(trainer.G), trainer.unwrap(trainer.D)
    try:
        check_models(
            G,
            D,
            data_shape=tuple(ds.shape),
            num_classes=int(getattr(ds, "num_classes", 0) or 0),
            real=real if len(real) >= 2 else None,
            heads=tuple(getattr(trainer.method, "d_heads", ("adv",))) + (("cls",) if cfg.loss.class_weight else ()),
            device=trainer.device,
        )
    except ContractError as exc:
        raise ContractError(f"{where} on dataset {cfg.data.name!r}: {exc}") from None
    warn_output_range(G, ds, trainer.device)
