"""Sequentially boosted GANs (Slim 2020, §5.1 "Conditioned GANs"): GAN 0 is the base GAN, GAN i+1 is trained on the
real set sampled with Algorithm 1's weights computed from the previous GANs' samples; the ensemble is all of them.

* :class:`ReweightedGAN` (method ``multigan_reweighted``) is the vanilla GAN whose ``"main"`` stream draws real
  instances with replacement from the weights (core ``WeightedSampler``, an epoch = N draws), plus best-G selection:
  every ``select_every`` steps the FID of G_ema on ``select_n`` samples against the training set is measured and the
  best G_ema is exported to ``G_best.pt`` (the report: "keep the best G obtained across the whole training session").
* :func:`train_boosted` runs the sequence, one run directory per GAN (``ROOT/gan_0``, ``ROOT/gan_1``, ...), and
  skips GANs whose run finished, so an interrupted sequence resumes where it stopped; the weights of GAN i are
  ``ROOT/weights_i.npy`` (+ ``.json`` summary).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError
from ganlab.core.train.method import METHODS, Method
from ganlab.multigan_boosting.weights import (
    ReweightResult,
    check_synthetic,
    check_transform,
    extract_features,
    sample_weights,
    union_features,
)

if TYPE_CHECKING:  # pragma: no cover
    from ganlab.core.train.trainer import Trainer

log = logging.getLogger(__name__)

BEST = "G_best.pt"

__all__ = ["BoostOptions", "ReweightedGAN", "class_samples", "compute_weights", "selected_generator", "train_boosted"]


@dataclass
class BoostOptions:
    """Options of :class:`ReweightedGAN`."""

    weights: str | None = None  # .npy sampling probabilities over the training set; None: uniform (the base GAN)
    select_every: int = 0  # best-G selection by FID every N steps (0: the last G_ema is the selected G)
    select_n: int = 5000  # samples per FID measurement (the report's "5k")
    select_extractor: str = "inception"
    select_extractor_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        if self.select_every < 0 or self.select_n < 2:
            raise ConfigError("method.options.select_every must be >= 0 and select_n >= 2")


def load_probs(path: str | Path, n: int) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"method.options.weights: {p} does not exist (compute it with `ganlab multigan-boosting weights`)"
        )
    w = np.load(p).astype(np.float64).reshape(-1)
    if w.size != n:
        raise ConfigError(f"{p} holds {w.size} weights but the training set has {n} instances")
    if not np.all(np.isfinite(w)) or (w < 0).any() or not w.sum() > 0:
        raise ConfigError(f"{p}: sampling weights must be finite, >= 0 and not all 0")
    return w


@METHODS.register("multigan_reweighted")
class ReweightedGAN(Method):
    """The vanilla GAN on a re-weighted real stream (Algorithm 1's probabilities), with best-G selection."""

    name = "multigan_reweighted"
    Options = BoostOptions

    def __init__(self, options: BoostOptions | None = None) -> None:
        super().__init__(options)
        self.options.validate()
        self.probs: np.ndarray | None = None
        self.best_fid = float("inf")
        self.best_step = -1
        self._real_feats: np.ndarray | None = None
        self._extractor = None

    def validate(self, run: Trainer) -> None:
        if self.options.weights is not None:
            self.probs = load_probs(self.options.weights, len(run.dataset))
        if self.options.select_every and not run.num_classes:
            raise ConfigError("best-G selection samples class-conditionally: the GAN needs num_classes > 0")

    def sampler(self, run: Trainer):
        if self.probs is None:
            return None
        from ganlab.core.data.samplers import WeightedSampler

        acc = getattr(run, "accelerator", None)
        rank, world = (acc.process_index, acc.num_processes) if acc is not None else (0, 1)
        return WeightedSampler(self.probs, seed=run.cfg.seed, rank=rank, world_size=world, epoch_size=len(self.probs))

    # ------------------------------------------------------------------------------------------- best-G selection
    def on_step_end(self, run: Trainer) -> None:
        every = self.options.select_every
        if every and run.step % every == 0 and run.is_main:
            self.select(run)

    def select(self, run: Trainer) -> float:
        """FID of the current G_ema; exports it to ``G_best.pt`` when it is the best so far."""
        from ganlab.core.features import extract_features as core_extract
        from ganlab.core.features import get_extractor
        from ganlab.core.metrics.fid import fid_from_features

        o = self.options
        if self._extractor is None:
            self._extractor = get_extractor(o.select_extractor, **dict(o.select_extractor_options))
            n = min(len(run.dataset), o.select_n)
            # a seeded random subset: the first n items of a class-sorted dataset (mnist5k) would miss classes
            idx = np.sort(np.random.default_rng(run.cfg.seed).choice(len(run.dataset), n, replace=False))
            real = run.dataset.get_batch(idx)["image"]
            self._real_feats = core_extract(self._extractor, real, device=run.device, progress=False)
        G = run.G_ema
        images, _ = class_samples(G, o.select_n, seed=run.cfg.seed + run.step, device=run.device)
        fake = core_extract(self._extractor, images, device=run.device, progress=False)
        fid = float(fid_from_features(self._real_feats, fake))
        run.log({"multigan/select_fid": fid})
        if fid < self.best_fid:
            self.best_fid, self.best_step = fid, run.step
            run.export_generator(run.run_dir.path / BEST)
        return fid

    def state_dict(self) -> dict[str, Any]:
        return {"best_fid": self.best_fid, "best_step": self.best_step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_fid = float(state.get("best_fid", float("inf")))
        self.best_step = int(state.get("best_step", -1))


# ------------------------------------------------------------------------------------------------ sampling
@torch.no_grad()
def class_samples(
    G: torch.nn.Module,
    n: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    batch_size: int = 500,
    num_classes: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` class-sequential samples of a conditional G (n / K per class, classes in order), G in eval mode."""
    k = int(num_classes or getattr(G, "num_classes", 0) or 0)
    if k < 1:
        raise ConfigError("class-conditional sampling needs a G with num_classes > 0")
    if n % k:
        raise ConfigError(f"{n} samples cannot be split evenly over {k} classes; use a multiple of {k}")
    gen = torch.Generator().manual_seed(int(seed))
    labels = torch.arange(k).repeat_interleave(n // k)
    was = G.training
    G.eval()
    out = []
    for s in range(0, n, batch_size):
        y = labels[s : s + batch_size]
        z = torch.randn(len(y), G.z_dim, generator=gen)
        out.append(G(z.to(device), y=y.to(device)).float().cpu())
    G.train(was)
    return torch.cat(out), labels


def selected_generator(
    run_dir: str | Path, device: torch.device | str = "cpu", checkpoint: str = "auto"
) -> torch.nn.Module:
    """The selected G of a finished run. ``checkpoint``: ``"last"``, the final ``G_ema.pt``; ``"best"``, the
    best evaluated G (core's ``best_G.pt`` from ``eval.select_best``, else this method's FID-selected
    ``G_best.pt``), an error when the run kept none; ``"auto"``: the best when one was kept, else the last."""
    from ganlab.core.train.checkpoint import load_generator
    from ganlab.core.train.evaluation_schedule import BEST_FILE

    if checkpoint not in ("last", "best", "auto"):
        raise ConfigError(f"checkpoint must be 'last', 'best' or 'auto', got {checkpoint!r}")
    run_dir = Path(run_dir)
    best = next((p for p in (run_dir / BEST_FILE, run_dir / BEST) if p.is_file()), None)
    if checkpoint == "best" and best is None:
        raise ConfigError(
            f"{run_dir} kept no best generator ({BEST_FILE} or {BEST}); train it with eval.select_best or use "
            "checkpoint 'last'"
        )
    G, _ = load_generator(best if best is not None and checkpoint != "last" else run_dir, device=device)
    return G.eval()


# ------------------------------------------------------------------------------------------------ Algorithm 1
def compute_weights(
    real_images: torch.Tensor,
    real_labels: Any,
    generators: Sequence[torch.nn.Module],
    feature_net: torch.nn.Module,
    transform: str = "C",
    *,
    synthetic: str = "union",
    n_per_gan: int | None = None,
    equalize_class_mass: bool = False,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> ReweightResult:
    """Algorithm 1 for the next GAN: φ of the real set and of ``n_per_gan`` class-sequential samples of each
    previous generator (default: as many as real images, the report's 50k / 50k), oldest first."""
    check_transform(transform)
    fake_f, fake_y = synthetic_features(generators, feature_net, len(real_images), synthetic, n_per_gan, seed, device)
    real_f = extract_features(feature_net, real_images, device=device)
    return sample_weights(real_f, real_labels, fake_f, fake_y, transform, equalize_class_mass=equalize_class_mass)


def synthetic_features(
    generators: Sequence[torch.nn.Module],
    feature_net: torch.nn.Module,
    n_real: int,
    synthetic: str = "union",
    n_per_gan: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """φ and labels of D_G: class-sequential samples of the previous generators (all, or the last one)."""
    check_synthetic(synthetic)
    if not generators:
        raise ConfigError("Algorithm 1 needs at least one previous generator")
    offset = 0 if synthetic == "union" else len(generators) - 1
    parts = []
    for i, G in enumerate(generators[offset:], start=offset):
        k = int(getattr(G, "num_classes", 0) or 0)
        n = n_per_gan or (n_real // max(k, 1)) * max(k, 1)
        imgs, labels = class_samples(G, n, seed=seed + 1000 * i, device=device)
        parts.append((extract_features(feature_net, imgs, device=device), labels))
    return union_features(parts, "union")


def save_weights(result: ReweightResult, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """``path`` (.npy probabilities) and ``path.json`` (the summary), written atomically."""
    import io

    from ganlab.core.fileio import atomic_write_bytes
    from ganlab.core.results import atomic_write_text

    path = Path(path)
    buf = io.BytesIO()
    np.save(buf, result.probs)
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_text(path.with_suffix(".json"), json.dumps({**result.summary(), **(extra or {})}, indent=2))
    return path


# --------------------------------------------------------------------------------------------------- sequence
def _finished(run_dir: Path) -> bool:
    from ganlab.core.train.checkpoint import list_checkpoints

    if not (run_dir / "config.yaml").is_file():
        return False
    ckpts = list_checkpoints(run_dir / "checkpoints")
    return bool(ckpts) and (run_dir / "G_ema.pt").is_file()


def train_boosted(
    cfg: Any,
    n_gans: int,
    root: str | Path,
    feature_net: torch.nn.Module,
    transform: str = "C",
    *,
    synthetic: str = "union",
    equalize_class_mass: bool = False,
    n_per_gan: int | None = None,
    dataset: Any = None,
    models: Callable[[], tuple[torch.nn.Module, torch.nn.Module]] | None = None,
    seed_offset: int = 0,
    reweight: bool = True,
) -> list[Path]:
    """Train GAN 0 … GAN n_gans−1 into ``root/gan_i``; returns their run directories (the ensemble, oldest first).

    Every re-weighted GAN keeps ``cfg.seed`` (the author's params.py fixes seed 36 for all runs), so GAN i+1 differs
    from GAN 0 by its data weights only.

    ``cfg``: an ExperimentConfig (``method.options`` may set ``select_every`` etc.). ``reweight=False`` trains the
    unconditioned baseline (independent GANs with seeds ``cfg.seed + i``, as Pham et al.). ``models``: a function
    returning a fresh ``(G, D)`` of your own (conditional) modules for each GAN.
    """
    import copy

    from ganlab.core.data import get_dataset
    from ganlab.core.processes import process_state
    from ganlab.core.train.trainer import Trainer

    check_transform(transform)
    check_synthetic(synthetic)
    if n_gans < 1:
        raise ConfigError(f"n_gans must be >= 1, got {n_gans}")
    root = Path(root)
    d = cfg.data
    if dataset is None:
        dataset = get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
    if not getattr(dataset, "num_classes", 0):
        raise ConfigError("boosted GANs are class-conditional (Algorithm 1 is per class): the dataset needs labels")
    runs: list[Path] = []
    for i in range(n_gans):
        run_dir = root / f"gan_{i}"
        if not _finished(run_dir):
            c = copy.deepcopy(cfg)
            c.name, c.seed = f"gan_{i}", cfg.seed + seed_offset + (i if not reweight else 0)
            c.method.name = "multigan_reweighted"
            opts = dict(c.method.options)
            opts.pop("weights", None)
            if i > 0 and reweight:
                wpath = root / f"weights_{i}.npy"
                # several processes: rank 0 alone computes and writes the weights, the others read its file
                processes = process_state()
                if processes.is_main_process and not wpath.is_file():
                    batch = dataset.get_batch(np.arange(len(dataset)))
                    gens = [selected_generator(r) for r in runs]
                    res = compute_weights(
                        batch["image"],
                        batch["label"],
                        gens,
                        feature_net,
                        transform,
                        synthetic=synthetic,
                        n_per_gan=n_per_gan,
                        equalize_class_mass=equalize_class_mass,
                        seed=cfg.seed + i,
                    )
                    save_weights(res, wpath, {"gan": i, "synthetic": synthetic, "previous": [str(r) for r in runs]})
                processes.wait_for_everyone()
                opts["weights"] = str(wpath)
            c.method.options = opts
            resume = "auto" if (run_dir / "config.yaml").is_file() else False
            trainer = Trainer(c, run_dir=run_dir, dataset=dataset, models=models, resume=resume)
            trainer.fit()
            trainer.export_generator()
        runs.append(run_dir)
    return runs
