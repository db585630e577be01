"""Dia-GAN's evaluation of one trained run (the harness's ``Hooks.evaluate`` of :mod:`ganlab.diagan.repro`).

A variant's samples are plain (``vanilla``, ``diagan_nodrs``) or go through DRS with the run's own D (``drs``) or
its auxiliary D (``diagan``). The image metrics follow the experiment's :class:`~ganlab.core.evaluation.EvalProtocol`
(network and resize through :func:`ganlab.core.evaluation.extractor.protocol_extractor`; FID against the reference
split, P&R reals from the training split); the Dia-GAN analyses (mode coverage, LDR by group, partial recall,
reconstruction error, minor occurrence, Table 6's attributes) follow the experiment's ``experiment`` section.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError, DatasetError
from ganlab.core.results import RunDir, atomic_write_bytes
from ganlab.diagan import analysis
from ganlab.diagan.method import AUX, DiaGAN, DiaGANOptions, drs_generate, generate
from ganlab.diagan.protocols import data_provenance, fid_reference, image_protocol, resize_name


class Trained:
    """The parts of a finished trainer the evaluation reads."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self.method = trainer.method if isinstance(trainer.method, DiaGAN) else None

    @property
    def G(self) -> torch.nn.Module:
        return self.trainer.G_ema

    @property
    def D(self) -> torch.nn.Module:
        return self.trainer.unwrap(self.trainer.D)

    @property
    def aux(self) -> torch.nn.Module | None:
        return self.trainer.unwrap(self.trainer.models[AUX]) if AUX in self.trainer.models else None


def sample_variant(spec: Any, variant: str, run: Trained, n: int, seed: int) -> torch.Tensor:
    """``n`` samples of a variant: plain, or through DRS with the main D (``drs``) / auxiliary D (``diagan``)."""
    device = run.trainer.device
    e = spec.experiment
    if variant in ("vanilla", "diagan_nodrs"):
        return generate(run.G, n, device=device, seed=seed)
    critic = run.D if variant == "drs" else run.aux
    if critic is None:
        raise ConfigError("the diagan variant needs the auxiliary discriminator (method.options.aux_discriminator)")
    return drs_generate(
        run.G, critic, n, device=device, batch_size=e.drs_batch_size, burn_in=e.drs_burn_in, seed=seed
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


# ------------------------------------------------------------------------------------------------- features
def real_images(dataset: Any, n: int | None = None, indices: np.ndarray | None = None) -> torch.Tensor:
    idx = np.arange(len(dataset)) if indices is None else np.asarray(indices)
    if n is not None and n < len(idx):
        idx = idx[:n]
    return torch.cat([dataset.get_batch(idx[lo : lo + 2048])["image"] for lo in range(0, len(idx), 2048)])


REAL_FEATURES: dict[tuple, np.ndarray] = {}  # real-image features, shared by the variants of one experiment


def real_features(spec: Any, ds: Any, device: Any, n: int | None = None, indices: Any = None) -> np.ndarray:
    idx = np.arange(len(ds)) if indices is None else np.asarray(indices)
    if n is not None:
        idx = idx[:n]
    p = spec.protocol
    key = (
        p.network.name,
        str(p.extractor_options()),
        p.resize.method,
        p.resize.size,
        getattr(ds, "fingerprint", id(ds)),
        len(idx),
        hash(idx.tobytes()),
    )
    if key not in REAL_FEATURES:
        REAL_FEATURES[key] = features(spec, real_images(ds, indices=idx), device)
    return REAL_FEATURES[key]


def features(spec: Any, images: torch.Tensor, device: Any, **options: Any) -> np.ndarray:
    if images.ndim == 2:  # 2-D toys: the points are the features
        return images.numpy().astype(np.float32)
    from ganlab.core.evaluation.extractor import protocol_extractor
    from ganlab.core.features.extract import extract_features

    ext = protocol_extractor(spec.protocol, **options)
    return extract_features(ext, images, batch_size=256, device=device, progress=False)


# ----------------------------------------------------------------------------------------------- evaluation
def evaluate(spec: Any, run_cfg: Any, variant: str, run: Trained, seed: int, out: RunDir) -> dict[str, Any]:
    """One variant's record: data provenance, the protocol's image metrics and the experiment's analyses."""
    e, p = spec.experiment, spec.protocol
    ds = run.trainer.dataset
    device = run.trainer.device
    fakes = sample_variant(spec, variant, run, p.fake_count(len(ds)), seed)
    if e.save_samples and fakes.ndim == 4:
        from ganlab.core.images import images_to_png

        atomic_write_bytes(out.samples / f"{variant}_seed{seed}.png", images_to_png(fakes[: e.save_samples]))
    rec: dict[str, Any] = dict(data_provenance(ds))
    if fakes.ndim == 4 and ("partial_recall" in e.metrics or p.metrics):
        rec["resize"] = resize_name(p)
    diag = diagnosis(run)
    k = float(run_cfg.method.options.get("k", DiaGANOptions.k))
    if e.kind == "gaussians":
        rep = analysis.mode_ldrm_report(
            diag[0] if diag is not None else np.zeros(len(ds)),
            ds.modes,
            fakes.numpy(),
            ds.centers,
            ds.sigma,
            min_count=e.min_count,
        )
        rec.update(modes_covered=rep["modes_covered"], hq_fraction=rep["hq_fraction"])
        if variant in ("vanilla", "drs") and diag is not None:
            rec["spearman_ldrm_vs_hq"] = rep["spearman_ldrm_vs_hq"]
        out.log_metrics({"variant": variant, "seed": seed, **rep})
    if e.kind in ("minority", "attributes") and "ldrv" in e.metrics and diag is not None:
        groups = analysis.require_groups(ds, "the LDRV by group table")
        score = diag[0] + k * np.sqrt(np.maximum(diag[1], 0))
        rec.update(analysis.group_statistics({"ldrv": diag[1], "ldrm": diag[0], "score": score}, groups))
    if "occurrence" in e.metrics and e.kind == "minority":
        rec["minor_occurrence"] = analysis.minor_occurrence(fakes)
    if "re" in e.metrics:
        from ganlab.core.metrics.reconstruction import reconstruction_error

        groups = analysis.require_groups(ds, "the reconstruction error of minor samples")
        if e.cae_samples <= len(fakes):
            cae_fakes = fakes[: e.cae_samples]
        else:
            cae_fakes = sample_variant(spec, variant, run, e.cae_samples, seed + 1)
        re = reconstruction_error(
            cae_fakes, real_images(ds), groups=groups, epochs=e.cae_epochs, seed=seed, device=device, nf=e.cae_nf
        )
        rec["re_minor"], rec["re_major"] = re["re_group1"], re["re_group0"]
    if "partial_recall" in e.metrics:
        from ganlab.core.metrics.prdc import partial_recall

        groups = analysis.require_groups(ds, "partial recall by group")
        f_fake = features(spec, fakes, device)
        for g, name in ((0, "major"), (1, "minor")):
            idx = np.flatnonzero(groups == g)[: e.n_real or None]
            rec[f"partial_recall_{name}"] = float(
                partial_recall(real_features(spec, ds, device, indices=idx), f_fake, k=p.prdc.k)
            )
    if e.kind == "image":
        rec.update(image_metrics(spec, run_cfg, ds, fakes, device))
    if e.kind == "attributes":
        rec.update(attribute_metrics(spec, ds, fakes, diag, k, device, seed))
    return rec


def image_metrics(spec: Any, run_cfg: Any, ds: Any, fakes: torch.Tensor, device: Any) -> dict[str, Any]:
    """FID against the protocol's reference, P&R (k = prdc.k) of the first prdc.n_fake fakes against prdc.n_real
    training images (seed prdc.seed), IS over is_splits splits."""
    from ganlab.core.evaluation.draws import reference_indices

    p = spec.protocol
    ref = fid_reference(p, run_cfg.data, ds)
    proto = image_protocol(p, len(ds), len(ref), len(fakes))
    out: dict[str, Any] = {}
    f_fake = features(spec, fakes, device)
    if "fid" in p.metrics:
        from ganlab.core.metrics.fid import fid_from_features

        n_ref = proto["fid_n_real"]
        draw = "all" if n_ref >= len(ref) else p.reference.draw
        ref_idx = reference_indices(len(ref), draw, n_ref, p.reference.seed)
        out["fid"] = float(fid_from_features(real_features(spec, ref, device, indices=ref_idx), f_fake))
        proto["fid_n_real"] = len(ref_idx)
    if "pr" in p.metrics:
        from ganlab.core.metrics.prdc import precision_recall

        n_real = proto["pr_n_real"]
        idx = reference_indices(len(ds), "all" if n_real >= len(ds) else "random", n_real, p.prdc.seed or 0)
        pr = precision_recall(real_features(spec, ds, device, indices=idx), f_fake[: proto["pr_n_fake"]], k=p.prdc.k)
        out["precision"], out["recall"] = float(pr["precision"]), float(pr["recall"])
    if "is" in p.metrics:
        from ganlab.core.metrics.inception_score import inception_score

        # clean-fid's Inception gives log-probabilities (StyleGAN2-ADA's IS protocol); the others logits
        output = "logprobs" if p.network.name == "inception" else "logits"
        score = inception_score(features(spec, fakes, device, output=output), splits=p.is_splits)
        out["is"] = float(score[0] if isinstance(score, tuple) else score)
        proto["is_n_fake"], proto["is_splits"] = len(fakes), p.is_splits
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


def attribute_metrics(spec: Any, ds: Any, fakes: Any, diag: Any, k: float, device: Any, seed: int) -> dict[str, float]:
    """Table 6: occurrence of each minor attribute among generated samples (a classifier trained on the real
    attributes) and its partial recall; LDRV and score with/without the attribute from the run's diagnosis."""
    from ganlab.core.features.classifier import train_classifier
    from ganlab.core.metrics.prdc import partial_recall

    e = spec.experiment
    attrs = _attribute_matrix(ds, e.attributes)
    rng = np.random.default_rng(seed)
    train_idx = np.sort(rng.permutation(len(ds))[: e.classifier_train])
    real = real_images(ds, indices=train_idx)
    f_fake = features(spec, fakes, device)
    out: dict[str, float] = {}
    for j, name in enumerate(e.attributes):
        y = torch.as_tensor(attrs[train_idx, j])
        model, info = train_classifier(
            (real, y),
            num_classes=2,
            in_channels=real.shape[1],
            protocol="gold",
            device=device,
            arch=e.classifier_arch,
            epochs=e.classifier_epochs,
            samples_per_epoch=None,
            seed=seed,
        )
        with torch.no_grad():
            pred = torch.cat([model(fakes[i : i + 500].to(device)).argmax(1).cpu() for i in range(0, len(fakes), 500)])
        out[f"{name}_classifier_acc"] = float(info.get("accuracy", float("nan")) or float("nan"))
        out[f"{name}_occurrence_pct"] = 100.0 * float(pred.float().mean())
        with_attr = np.flatnonzero(attrs[:, j] == 1)[: e.n_real or None]
        out[f"{name}_partial_recall"] = float(
            partial_recall(real_features(spec, ds, device, indices=with_attr), f_fake, k=spec.protocol.prdc.k)
        )
        if diag is not None:
            score = diag[0] + k * np.sqrt(np.maximum(diag[1], 0))
            stats = analysis.group_statistics({"ldrv": diag[1], "score": score}, attrs[:, j])
            out[f"{name}_ldrv_with"], out[f"{name}_ldrv_without"] = stats["ldrv_minor"], stats["ldrv_major"]
            out[f"{name}_score_with"], out[f"{name}_score_without"] = stats["score_minor"], stats["score_major"]
    return out
