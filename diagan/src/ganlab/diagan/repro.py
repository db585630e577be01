"""Reproductions of the Dia-GAN paper's tables and figures (``ganlab diagan repro EXP --scale smoke|mini|paper``).

Every experiment is one YAML file under ``configs/`` with two sections: ``experiment`` (the protocol:
variants, seeds, majority ratios, metrics) and ``run`` (a core training config; the Dia-GAN variant uses its
``method.options``, the vanilla variant the same config without phase 2). ``scales:`` holds the per-scale deltas.

Variants: ``vanilla`` (uniform sampling all the way; LDR still recorded over its last window for the diagnosis
tables), ``drs`` (the vanilla run's samples through DRS with its own D), ``diagan`` (phases 1-3: weighted sampling,
samples through DRS with the auxiliary D) and ``diagan_nodrs`` (the Dia-GAN run without phase 3).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ganlab.core.config import load_config
from ganlab.core.errors import ConfigError, DatasetError
from ganlab.core.repro import Experiment
from ganlab.core.results import RunDir, atomic_write_bytes
from ganlab.core.train.config import ExperimentConfig, MethodConfig
from ganlab.diagan import analysis
from ganlab.diagan.method import AUX, DiaGAN, DiaGANOptions, drs_generate, generate
from ganlab.diagan.protocols import check_data_source, data_provenance, fid_reference, image_protocol

CONFIGS = Path(__file__).parent / "configs"
VARIANTS = ("vanilla", "drs", "diagan", "diagan_nodrs")


@dataclass
class ProtocolConfig:
    """What an experiment trains and measures."""

    kind: Literal["gaussians", "minority", "image", "attributes"] = "gaussians"
    variants: list[str] = field(default_factory=lambda: ["vanilla", "diagan"])
    seeds: list[int] = field(default_factory=lambda: [0])
    rhos: list[float] = field(default_factory=list)  # majority ratios (one run each); empty: the dataset's own
    metrics: list[str] = field(default_factory=list)
    n_samples: int = 10000  # generated samples per evaluation
    n_real: int | None = None  # real images per group for partial recall (None: all)
    # image metrics (Tables 2-4; the official evaluation): FID of n_samples fakes against fid_n_real images (None:
    # all) of the split fid_reference_split (None: the training data; "all": every CelebA image, the official
    # celeba_64_202k statistics); P&R of the first pr_n_fake fakes against pr_n_real training images (seeded random)
    fid_reference_split: str | None = None
    fid_n_real: int | None = None
    pr_n_real: int | None = 10000
    pr_n_fake: int | None = 10000
    extractor: str = "inception"
    extractor_options: dict[str, Any] = field(default_factory=dict)
    # the resize before the extractor (ganlab.diagan.resize): "tf_bilinear" is the official TF graph's, "extractor"
    # the extractor's own (clean-fid's bicubic for inception); resize_size: the extractor's input (None: no resize)
    resize: str = "extractor"
    resize_size: int | None = 299
    pr_k: int = 3  # k of (partial) recall, the official compute_partial_recall
    min_count: int = 20  # a Gaussian mode is "covered" with at least this many high-quality samples
    cae_samples: int = 50000
    cae_epochs: int = 50
    cae_nf: int = 64
    attributes: list[str] = field(default_factory=list)  # Table 6 (CelebA attribute names; "group" = the groups)
    classifier_arch: str = "resnet20"
    classifier_epochs: int = 10
    classifier_train: int = 50000
    drs_batch_size: int = 256
    drs_burn_in: int = 50
    record_vanilla: bool = True
    # "phase1": the vanilla run records the Dia-GAN window [p1 - |T| x 100, p1) (the official phase-1 script, whose
    # run continued to the end is the vanilla baseline); "end": the last window before the end (Figure 2)
    vanilla_window: Literal["phase1", "end"] = "phase1"
    # Dia-GAN's phase 2 starts from the vanilla run's checkpoint at phase1_steps (init_from), as the official
    # phase-2 script loads the phase-1 checkpoint
    share_phase1: bool = True
    save_samples: int = 64

    def validate(self) -> None:
        bad = [v for v in self.variants if v not in VARIANTS]
        if bad:
            raise ConfigError(f"unknown variants {bad}; choose from {', '.join(VARIANTS)}")
        if not self.seeds:
            raise ConfigError("experiment.seeds must list at least one seed")
        from ganlab.diagan.resize import RESIZES

        if self.resize not in RESIZES:
            raise ConfigError(f"experiment.resize must be one of {', '.join(RESIZES)}, got {self.resize!r}")


@dataclass
class ReproConfig:
    experiment: ProtocolConfig = field(default_factory=ProtocolConfig)
    run: ExperimentConfig = field(default_factory=ExperimentConfig)


def load_repro_config(path: str | Path, scale: str | None = None, overrides: Sequence[str] = ()) -> ReproConfig:
    return load_config(ReproConfig, path, overrides, scale)


# ------------------------------------------------------------------------------------------------- training
@dataclass
class Trained:
    """A finished training run kept in memory for evaluation."""

    trainer: Any
    method: DiaGAN | None

    @property
    def G(self) -> torch.nn.Module:
        return self.trainer.G_ema

    @property
    def D(self) -> torch.nn.Module:
        return self.trainer.unwrap(self.trainer.D)

    @property
    def aux(self) -> torch.nn.Module | None:
        return self.trainer.unwrap(self.trainer.models[AUX]) if AUX in self.trainer.models else None


def variant_config(cfg: ReproConfig, base: str, seed: int, rho: float | None, out: Path) -> ExperimentConfig:
    """The training config of one run: ``base`` is ``vanilla`` or ``diagan``."""
    ecfg = copy.deepcopy(cfg.run)
    ecfg.seed = int(seed)
    tag = f"{base}_seed{seed}" + (f"_rho{rho:g}" if rho is not None else "")
    ecfg.name = tag
    ecfg.out_dir = str(out)
    if rho is not None:
        ecfg.data.options = {**ecfg.data.options, "rho": float(rho)}
    if ecfg.method.name != "diagan":
        raise ConfigError(f"run.method.name must be 'diagan' in a Dia-GAN reproduction, not {ecfg.method.name!r}")
    opts = dict(ecfg.method.options)
    if base == "vanilla":
        p1 = opts.get("phase1_steps")
        if cfg.experiment.record_vanilla or cfg.experiment.share_phase1:
            opts.update(phase1_steps=None, aux_discriminator=False)
            if cfg.experiment.vanilla_window == "phase1" and p1 is not None:
                opts.update(record_until=p1)
            elif cfg.experiment.share_phase1 and p1 is not None:
                # record from the Dia-GAN window's start to the end: the phase-1 checkpoint holds the Dia-GAN window,
                # the end of the run the vanilla one
                every = int(opts.get("record_every", DiaGANOptions.record_every))
                start = max(int(p1) - int(opts.get("window", DiaGANOptions.window)) * every, 0)
                opts.update(record_from=start, capacity=(ecfg.train.steps - start) // every + 1)
            ecfg.method = MethodConfig(name="diagan", options=opts)
        else:
            ecfg.method = MethodConfig(name="vanilla", options={})
    return ecfg


def train_run(
    ecfg: ExperimentConfig,
    *,
    init_from: Path | None = None,
    keep_at: int | None = None,
    stop_after_keep: bool = False,
) -> tuple[Trained, Path | None]:
    """Train one run; with ``keep_at``, also keep a copy of its checkpoint at that step (for ``init_from``)."""
    import shutil

    from ganlab.core.train.build import build_method
    from ganlab.core.train.trainer import Trainer

    method = build_method(ecfg.method)
    trainer = Trainer(ecfg, method=method, run_dir=Path(ecfg.out_dir) / ecfg.name, init_from=init_from)
    kept = None
    if keep_at is not None and 0 < keep_at <= ecfg.train.steps:
        trainer.fit(stop_at=keep_at)
        kept = trainer.run_dir.path / f"phase1_step{keep_at}.pt"
        shutil.copyfile(trainer._last_ckpt, kept)
    if not (stop_after_keep and kept is not None):
        trainer.fit()
    return Trained(trainer, method if isinstance(method, DiaGAN) else None), kept


def sample_variant(cfg: ReproConfig, variant: str, run: Trained, n: int, seed: int) -> torch.Tensor:
    """``n`` samples of a variant: plain, or through DRS with the main D (``drs``) / auxiliary D (``diagan``)."""
    device = run.trainer.device
    p = cfg.experiment
    if variant in ("vanilla", "diagan_nodrs"):
        return generate(run.G, n, device=device, seed=seed)
    critic = run.D if variant == "drs" else run.aux
    if critic is None:
        raise ConfigError("the diagan variant needs the auxiliary discriminator (method.options.aux_discriminator)")
    return drs_generate(
        run.G, critic, n, device=device, batch_size=p.drs_batch_size, burn_in=p.drs_burn_in, seed=seed
    ).cpu()


def diagnosis(run: Trained) -> tuple[np.ndarray, np.ndarray] | None:
    """(LDRM, LDRV) of a run: the Dia-GAN phase-1 window, or the vanilla run's final window."""
    m = run.method
    if m is None:
        return None
    if m.scores is not None:
        return m.scores.ldrm, m.scores.ldrv
    if m.tracker is not None and m.tracker.num_available >= 2:
        st = m.tracker.statistics(strict=False)
        return st.ldrm, st.ldrv
    return None


# ----------------------------------------------------------------------------------------------- evaluation
def _real_images(dataset: Any, n: int | None = None, indices: np.ndarray | None = None) -> torch.Tensor:
    idx = np.arange(len(dataset)) if indices is None else np.asarray(indices)
    if n is not None and n < len(idx):
        idx = idx[:n]
    return torch.cat([dataset.get_batch(idx[lo : lo + 2048])["image"] for lo in range(0, len(idx), 2048)])


_REAL_FEATURES: dict[tuple, np.ndarray] = {}  # real-image features, shared by the variants of one experiment


def _real_features(cfg: ReproConfig, ds: Any, device: Any, n: int | None = None, indices: Any = None) -> np.ndarray:
    idx = np.arange(len(ds)) if indices is None else np.asarray(indices)
    if n is not None:
        idx = idx[:n]
    key = (
        cfg.experiment.extractor,
        str(cfg.experiment.extractor_options),
        cfg.experiment.resize,
        cfg.experiment.resize_size,
        getattr(ds, "fingerprint", id(ds)),
        len(idx),
        hash(idx.tobytes()),
    )
    if key not in _REAL_FEATURES:
        _REAL_FEATURES[key] = _features(cfg, _real_images(ds, indices=idx), device)
    return _REAL_FEATURES[key]


def _features(cfg: ReproConfig, images: torch.Tensor, device: Any) -> np.ndarray:
    if images.ndim == 2:  # 2-D toys: the points are the features
        return images.numpy().astype(np.float32)
    from ganlab.core.features.extract import extract_features

    return extract_features(_extractor(cfg), images, batch_size=256, device=device, progress=False)


def _extractor(cfg: ReproConfig, **options: Any) -> Any:
    from ganlab.core.features import get_extractor
    from ganlab.diagan.resize import resized_extractor

    p = cfg.experiment
    ext = get_extractor(p.extractor, **{**p.extractor_options, **options})
    return resized_extractor(ext, p.resize, p.resize_size)


def evaluate(cfg: ReproConfig, variant: str, run: Trained, seed: int, out: RunDir) -> dict[str, Any]:
    p = cfg.experiment
    ds = run.trainer.dataset
    device = run.trainer.device
    fakes = sample_variant(cfg, variant, run, p.n_samples, seed)
    if p.save_samples and fakes.ndim == 4:
        from ganlab.core.images import images_to_png

        atomic_write_bytes(out.samples / f"{variant}_seed{seed}.png", images_to_png(fakes[: p.save_samples]))
    rec: dict[str, Any] = dict(data_provenance(ds))
    if fakes.ndim == 4 and any(m in p.metrics for m in ("partial_recall", "fid", "pr", "is")):
        rec["resize"] = p.resize if p.resize == "extractor" else f"{p.resize}({p.resize_size})"
    diag = diagnosis(run)
    k = float(cfg.run.method.options.get("k", DiaGANOptions.k))
    if p.kind == "gaussians":
        rep = analysis.mode_ldrm_report(
            diag[0] if diag is not None else np.zeros(len(ds)),
            ds.modes,
            fakes.numpy(),
            ds.centers,
            ds.sigma,
            min_count=p.min_count,
        )
        rec.update(modes_covered=rep["modes_covered"], hq_fraction=rep["hq_fraction"])
        if variant in ("vanilla", "drs") and diag is not None:
            rec["spearman_ldrm_vs_hq"] = rep["spearman_ldrm_vs_hq"]
        out.log_metrics({"variant": variant, "seed": seed, **rep})
    if p.kind in ("minority", "attributes") and "ldrv" in p.metrics and diag is not None:
        groups = analysis.require_groups(ds, "the LDRV by group table")
        score = diag[0] + k * np.sqrt(np.maximum(diag[1], 0))
        rec.update(analysis.group_statistics({"ldrv": diag[1], "ldrm": diag[0], "score": score}, groups))
    if "occurrence" in p.metrics and p.kind == "minority":
        rec["minor_occurrence"] = analysis.minor_occurrence(fakes)
    if "re" in p.metrics:
        from ganlab.core.metrics.reconstruction import reconstruction_error

        groups = analysis.require_groups(ds, "the reconstruction error of minor samples")
        if p.cae_samples <= len(fakes):
            cae_fakes = fakes[: p.cae_samples]
        else:
            cae_fakes = sample_variant(cfg, variant, run, p.cae_samples, seed + 1)
        re = reconstruction_error(
            cae_fakes, _real_images(ds), groups=groups, epochs=p.cae_epochs, seed=seed, device=device, nf=p.cae_nf
        )
        rec["re_minor"], rec["re_major"] = re["re_group1"], re["re_group0"]
    if "partial_recall" in p.metrics:
        from ganlab.core.metrics.prdc import partial_recall

        groups = analysis.require_groups(ds, "partial recall by group")
        f_fake = _features(cfg, fakes, device)
        for g, name in ((0, "major"), (1, "minor")):
            idx = np.flatnonzero(groups == g)[: p.n_real or None]
            rec[f"partial_recall_{name}"] = float(
                partial_recall(_real_features(cfg, ds, device, indices=idx), f_fake, k=p.pr_k)
            )
    if p.kind == "image":
        rec.update(_image_metrics(cfg, ds, fakes, device))
    if p.kind == "attributes":
        rec.update(_attribute_metrics(cfg, ds, fakes, diag, k, device, seed))
    return rec


def _image_metrics(cfg: ReproConfig, ds: Any, fakes: torch.Tensor, device: Any) -> dict[str, Any]:
    p = cfg.experiment
    ref = fid_reference(cfg, ds)
    proto = image_protocol(cfg, len(ds), len(ref))
    out: dict[str, Any] = {}
    f_fake = _features(cfg, fakes, device)
    if "fid" in p.metrics:
        from ganlab.core.metrics.fid import fid_from_features

        n_ref = proto["fid_n_real"]
        ref_idx = (
            np.arange(len(ref))
            if n_ref >= len(ref)
            else np.sort(np.random.default_rng(1).permutation(len(ref))[:n_ref])
        )
        f_ref = _real_features(cfg, ref, device, indices=ref_idx)
        out["fid"] = float(fid_from_features(f_ref, f_fake))
        proto["fid_n_real"] = len(f_ref)
    if "pr" in p.metrics:
        from ganlab.core.metrics.prdc import precision_recall

        idx = np.sort(np.random.default_rng(0).permutation(len(ds))[: proto["pr_n_real"]])
        pr = precision_recall(_real_features(cfg, ds, device, indices=idx), f_fake[: proto["pr_n_fake"]], k=p.pr_k)
        out["precision"], out["recall"] = float(pr["precision"]), float(pr["recall"])
    if "is" in p.metrics:
        from ganlab.core.features.extract import extract_features
        from ganlab.core.metrics.inception_score import inception_score

        # clean-fid's Inception gives log-probabilities (StyleGAN2-ADA's IS protocol); the others logits
        output = "logprobs" if p.extractor == "inception" else "logits"
        logits = extract_features(_extractor(cfg, output=output), fakes, batch_size=256, device=device, progress=False)
        score = inception_score(logits, splits=10)
        out["is"] = float(score[0] if isinstance(score, tuple) else score)
        proto["is_n_fake"], proto["is_splits"] = len(fakes), 10
    return {**out, **proto}


def _attribute_matrix(ds: Any, names: list[str]) -> np.ndarray:
    cols = []
    for name in names:
        if name == "group":
            cols.append(analysis.require_groups(ds, "the 'group' attribute"))
            continue
        attr_names = getattr(ds, "attribute_names", None)
        if attr_names is None or name not in attr_names:
            raise DatasetError(f"dataset has no attribute {name!r} (attributes: {attr_names or 'none'})")
        cols.append(np.asarray(ds.attributes)[:, attr_names.index(name)])
    return np.stack(cols, 1).astype(np.int64)


def _attribute_metrics(cfg, ds, fakes, diag, k, device, seed) -> dict[str, float]:
    """Table 6: occurrence of each minor attribute among generated samples (a classifier trained on the real
    attributes) and its partial recall; LDRV and score with/without the attribute from the run's diagnosis."""
    from ganlab.core.features.classifier import train_classifier
    from ganlab.core.metrics.prdc import partial_recall

    p = cfg.experiment
    attrs = _attribute_matrix(ds, p.attributes)
    rng = np.random.default_rng(seed)
    train_idx = np.sort(rng.permutation(len(ds))[: p.classifier_train])
    real = _real_images(ds, indices=train_idx)
    f_fake = _features(cfg, fakes, device)
    out: dict[str, float] = {}
    for j, name in enumerate(p.attributes):
        y = torch.as_tensor(attrs[train_idx, j])
        model, info = train_classifier(
            (real, y),
            num_classes=2,
            in_channels=real.shape[1],
            protocol="gold",
            device=device,
            arch=p.classifier_arch,
            epochs=p.classifier_epochs,
            samples_per_epoch=None,
            seed=seed,
        )
        with torch.no_grad():
            pred = torch.cat([model(fakes[i : i + 500].to(device)).argmax(1).cpu() for i in range(0, len(fakes), 500)])
        out[f"{name}_classifier_acc"] = float(info.get("accuracy", float("nan")) or float("nan"))
        out[f"{name}_occurrence_pct"] = 100.0 * float(pred.float().mean())
        with_attr = np.flatnonzero(attrs[:, j] == 1)[: p.n_real or None]
        out[f"{name}_partial_recall"] = float(
            partial_recall(_real_features(cfg, ds, device, indices=with_attr), f_fake, k=p.pr_k)
        )
        if diag is not None:
            score = diag[0] + k * np.sqrt(np.maximum(diag[1], 0))
            stats = analysis.group_statistics({"ldrv": diag[1], "score": score}, attrs[:, j])
            out[f"{name}_ldrv_with"], out[f"{name}_ldrv_without"] = stats["ldrv_minor"], stats["ldrv_major"]
            out[f"{name}_score_with"], out[f"{name}_score_without"] = stats["score_minor"], stats["score_major"]
    return out


# ----------------------------------------------------------------------------------------------- the runner
def aggregate(records: list[dict[str, Any]], keys: Sequence[str] = ("rho", "variant")) -> list[dict[str, Any]]:
    """Mean and std (ddof=1 when >= 2 seeds) over seeds of every numeric column, per (rho, variant)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    out = []
    for key, rows in groups.items():
        agg: dict[str, Any] = dict(zip(keys, key))
        agg["seed"] = f"mean of {len(rows)}"
        cols = [c for c in rows[0] if c not in (*keys, "seed") and isinstance(rows[0][c], (int, float))]
        for c in cols:
            vals = np.array([r[c] for r in rows if isinstance(r.get(c), (int, float))], dtype=np.float64)
            agg[c] = float(np.nanmean(vals)) if len(vals) else float("nan")
            agg[f"{c}_std"] = float(np.nanstd(vals, ddof=1)) if len(vals) > 1 else 0.0
        out.append(agg)
    return out


def train_pair(cfg: ReproConfig, seed: int, rho: float | None, out: Path) -> dict[str, Trained]:
    """The vanilla and/or Dia-GAN runs an experiment's variants need (Dia-GAN from vanilla's phase 1 if shared)."""
    p = cfg.experiment
    need = {"vanilla" if v in ("vanilla", "drs") else "diagan" for v in p.variants}
    p1 = cfg.run.method.options.get("phase1_steps")
    share = p.share_phase1 and "diagan" in need and p1 is not None
    trained: dict[str, Trained] = {}
    ckpt = None
    if "vanilla" in need or share:
        vcfg = variant_config(cfg, "vanilla", seed, rho, out)
        # without a vanilla variant only its phase 1 is trained (same total steps: the LR schedule must match)
        trained["vanilla"], ckpt = train_run(
            vcfg, keep_at=int(p1) if share else None, stop_after_keep="vanilla" not in need
        )
    if "diagan" in need:
        trained["diagan"], _ = train_run(variant_config(cfg, "diagan", seed, rho, out), init_from=ckpt)
    return trained


def run_protocol(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    """Train every (majority ratio, seed, variant) of an experiment and evaluate it; per-seed rows + aggregates."""
    cfg = load_repro_config(config, scale, overrides)
    check_data_source(cfg, scale)
    p = cfg.experiment
    _REAL_FEATURES.clear()
    from ganlab.core.config import save_config

    save_config(cfg, run_dir.path / "repro_config.yaml")
    records: list[dict[str, Any]] = []
    rhos: list[float | None] = list(p.rhos) or [None]
    for rho in rhos:
        for seed in p.seeds:
            trained = train_pair(cfg, seed, rho, run_dir.path / "runs")
            for variant in p.variants:
                base = "vanilla" if variant in ("vanilla", "drs") else "diagan"
                rec = {"rho": rho, "variant": variant, "seed": seed}
                rec.update(evaluate(cfg, variant, trained[base], seed, run_dir))
                records.append(rec)
                run_dir.log_metrics({"event": "result", **rec})
    if rhos == [None]:
        for r in records:
            r.pop("rho")
        keys: tuple[str, ...] = ("variant",)
    else:
        keys = ("rho", "variant")
    return records + aggregate(records, keys) if len(p.seeds) > 1 else records


def _pending(reason: str):
    def run(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
        raise ConfigError(f"pending: {reason}")

    return run


def _exp(name: str, description: str, config: str, status: dict[str, str] | None = None, runner=None) -> Experiment:
    return Experiment(
        name=name,
        paper="diagan",
        description=description,
        config=CONFIGS / config,
        run=runner or run_protocol,
        status=status or {},
    )


_STYLEGAN = (
    "pending: StyleGAN2 networks are in core (stylegan2_256); its training recipe "
    "(lazy R1, path length, style mixing, EMA half-life) is not wired into the trainer yet"
)

EXPERIMENTS: dict[str, Experiment] = {
    "figure2": _exp("figure2", "25 Gaussians: per-mode LDRM vs high-quality samples; modes covered", "figure2.yaml"),
    "figure1e_gaussian": _exp(
        "figure1e_gaussian",
        "single-mode Gaussian: partial recall major/minor, LDRV (Fig. 1e, Table 1)",
        "figure1e_gaussian.yaml",
    ),
    "figure1e_colored_mnist": _exp(
        "figure1e_colored_mnist",
        "Colored MNIST: partial recall major/minor, LDRV (Fig. 1e, Table 1)",
        "figure1e_colored_mnist.yaml",
    ),
    "figure1e_mnist_fmnist": _exp(
        "figure1e_mnist_fmnist",
        "MNIST-FMNIST: partial recall major/minor, LDRV (Fig. 1e, Table 1)",
        "figure1e_mnist_fmnist.yaml",
    ),
    "table2_sngan_cifar10": _exp(
        "table2_sngan_cifar10", "SNGAN CIFAR-10, NS: vanilla/DRS/Dia-GAN FID, IS", "table2_sngan_cifar10.yaml"
    ),
    "table2_ssgan_cifar10": _exp(
        "table2_ssgan_cifar10", "SSGAN CIFAR-10, NS: vanilla/DRS/Dia-GAN FID, IS", "table2_ssgan_cifar10.yaml"
    ),
    "table2_sngan_celeba": _exp(
        "table2_sngan_celeba", "SNGAN CelebA 64, NS: vanilla/DRS/Dia-GAN FID, P&R", "table2_sngan_celeba.yaml"
    ),
    "table2_ssgan_celeba": _exp(
        "table2_ssgan_celeba", "SSGAN CelebA 64, NS: vanilla/DRS/Dia-GAN FID, P&R", "table2_ssgan_celeba.yaml"
    ),
    "table3_stylegan2_ffhq": _exp(
        "table3_stylegan2_ffhq",
        "StyleGAN2 FFHQ 256: vanilla vs Dia-StyleGAN2 FID, P&R",
        "table3_stylegan2_ffhq.yaml",
        status={"smoke": _STYLEGAN, "mini": _STYLEGAN, "paper": _STYLEGAN},
        runner=_pending(_STYLEGAN[9:]),
    ),
    "table4_hinge_cifar10": _exp(
        "table4_hinge_cifar10", "HingeGAN vs Dia-HingeGAN CIFAR-10 FID, IS", "table4_hinge_cifar10.yaml"
    ),
    "table4_hinge_celeba": _exp(
        "table4_hinge_celeba", "HingeGAN vs Dia-HingeGAN CelebA FID", "table4_hinge_celeba.yaml"
    ),
    "table5_colored_mnist": _exp(
        "table5_colored_mnist",
        "Colored MNIST rho=99/95/90: RE of green samples, green occurrence",
        "table5_colored_mnist.yaml",
    ),
    "table5_colored_mnist_rho95": _exp(
        "table5_colored_mnist_rho95",
        "Colored MNIST rho=95 with the official D: RE of green samples, green occurrence (issue 11 mini)",
        "table5_colored_mnist_rho95.yaml",
    ),
    "table5_mnist_fmnist": _exp(
        "table5_mnist_fmnist", "MNIST-FMNIST rho=99/95/90: RE of FMNIST samples", "table5_mnist_fmnist.yaml"
    ),
    "table6_celeba_attributes": _exp(
        "table6_celeba_attributes",
        "CelebA minor attributes: LDRV/score W/ vs W/O, occurrence, partial recall",
        "table6_celeba_attributes.yaml",
    ),
}
