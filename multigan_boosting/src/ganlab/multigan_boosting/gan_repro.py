"""GAN-side reproductions of Slim (2020): Table 2, Table 4, the Appendix A.2 FID list, Figures 1-2.

``GAN_EXPERIMENTS`` is merged into the package's ``EXPERIMENTS`` by :mod:`ganlab.multigan_boosting.experiments`. The
configs inherit ``_classify.yaml``, so the filter net and the GAN sequences are the very ones Table 1 / Table 3 use
(the shared directory of :class:`~ganlab.multigan_boosting.repro.Shared`: ``gans_seedS/<scheme>/gan_i``).

* ``gan_metrics`` (Tables 2, 4, A.2): for each source — the real data, one GAN of a scheme's sequence, or an
  ensemble of several, optionally with truncated z — intra-class MS-SSIM (×100; 200 pairs per class) and the "5k"
  FID (:mod:`ganlab.multigan_boosting.gan_eval`). Each record names its protocol and the report's value.
* ``figures``: Figure 1 (t-SNE of filter-net features, real vs generated; with ``psi`` also Appendix B.1) and
  Figure 2 / B.2 (t-SNE of one class's real features coloured by Algorithm 1's weights against the base GAN).

Feature extractor for the FID: ``inception`` (paper) or ``filter`` (the shared filter net's pooled features; mini and
smoke, where the Inception weights are not bundled — such FIDs are in-domain and not comparable with the report).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.config import deep_merge, save_config
from ganlab.core.errors import ConfigError
from ganlab.core.repro import Experiment
from ganlab.core.results import RunDir
from ganlab.multigan_boosting.classifier import ClassifierConfig
from ganlab.multigan_boosting.classify import DataConfig, SourceConfig

CONFIGS = Path(__file__).parent / "configs"
KINDS = ("gan_metrics", "figures")
SCHEMES = ("real", "baseline", "A_mu", "A_sigma", "B", "C")
METRICS = ("ms_ssim", "fid_5k")


@dataclass
class GanSource:
    """One image source: ``real``, or GANs ``gans`` (indices in the sequence) of ``scheme``, with optional psi."""

    name: str = "BigGAN"
    scheme: str = "baseline"
    gans: list[int] = field(default_factory=lambda: [0])
    psi: float | None = None
    weights: list[float] | None = None  # ensemble choice probabilities (None: uniform)
    paper_ms_ssim: float | None = None
    paper_fid: float | None = None


@dataclass
class GanProtocol:
    kind: str = "gan_metrics"
    sources: list[GanSource] = field(default_factory=list)
    metrics: list[str] = field(default_factory=lambda: list(METRICS))
    seeds: list[int] = field(default_factory=lambda: [0])
    extractor: str = "inception"  # or "filter"
    n_fid: int = 5000
    n_test_fid: int = 5000
    fid_batch: int = 50
    n_msssim: int = 4000  # class-sequential samples the pairs are drawn from (the report: 4000 per source)
    n_pairs: int = 200
    n_tsne: int = 2000  # figures: images per panel
    figure_class: int = 8  # figures: the class of Figure 2 (CIFAR-10 "ship")
    figure_psi: float | None = 0.5  # figures: also the Appendix B.1 sheet with this psi (null: none)
    synthetic: str = "union"  # as in Table 3 (the shared sequences)
    equalize_class_mass: bool = False
    n_per_gan: int | None = None  # as in Table 3: Algorithm 1's samples per previous GAN (None: the real set's size)
    shared_dir: str | None = None
    shared_name: str = "_shared"  # default shared folder OUT/multigan/<shared_name>/<scale> (mini_c: its own GANs)

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"experiment.kind must be one of {KINDS}, got {self.kind!r}")
        bad = sorted(set(self.metrics) - set(METRICS))
        if bad:
            raise ConfigError(f"experiment.metrics {bad} unknown; choose from {METRICS}")
        for s in self.sources:
            if s.scheme not in SCHEMES:
                raise ConfigError(f"source {s.name!r}: scheme {s.scheme!r} unknown; choose from {SCHEMES}")
            if s.scheme != "real" and (not s.gans or min(s.gans) < 0):
                raise ConfigError(f"source {s.name!r}: gans must list GAN indices >= 0")
            if s.weights is not None and len(s.weights) != len(s.gans):
                raise ConfigError(f"source {s.name!r}: {len(s.weights)} weights for {len(s.gans)} GANs")
        if not self.seeds:
            raise ConfigError("experiment.seeds must list at least one seed")


@dataclass
class GanConfig:
    config: str = "biggan32_cifar_multigan"
    overrides: list[str] = field(default_factory=list)


@dataclass
class GanReproConfig:
    experiment: GanProtocol = field(default_factory=GanProtocol)
    data: DataConfig = field(default_factory=DataConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    gan: GanConfig = field(default_factory=GanConfig)
    device: str = "auto"


def load_gan_repro_config(path: str | Path, scale: str | None, overrides: Sequence[str] = ()) -> GanReproConfig:
    """The config at ``scale``; experiment keys of the classifier experiments (set in the shared
    ``_classify.yaml``, e.g. ``n_classify``) that this schema does not use are dropped, any other unknown key fails."""
    from ganlab.core.config import apply_overrides, from_dict, read_yaml, select_scale, to_dict
    from ganlab.multigan_boosting.repro import ProtocolConfig

    data = apply_overrides(select_scale(read_yaml(path), scale), list(overrides))
    exp = data.get("experiment") or {}
    foreign = {f.name for f in fields(ProtocolConfig)} - {f.name for f in fields(GanProtocol)}
    data["experiment"] = {k: v for k, v in exp.items() if k not in foreign}
    cfg = from_dict(GanReproConfig, deep_merge(to_dict(GanReproConfig()), data))
    cfg.experiment.validate()
    # the classifier experiments' protocol, for the shared filter net and GAN sequences (repro.Shared reads it)
    mine = {f.name for f in fields(GanProtocol)} & {f.name for f in fields(ProtocolConfig)} - {"kind"}
    shared = {k: v for k, v in exp.items() if k in foreign}
    shared.update({k: to_dict(cfg.experiment)[k] for k in mine})
    cfg.shared_protocol = from_dict(ProtocolConfig, shared, where="experiment")
    return cfg


# ---------------------------------------------------------------------------------------------------- runners
def _extractor(p: GanProtocol, filt: Any):
    from ganlab.core.features import get_extractor
    from ganlab.core.features.extractors import ClassifierExtractor

    if p.extractor == "filter":
        return ClassifierExtractor(filt, "filter_net", None)
    return get_extractor(p.extractor)


def _generators(sh: Any, seed: int, src: GanSource) -> list[Any]:
    gens = sh.gans(seed, src.scheme, max(src.gans) + 1)
    return [gens[i] for i in src.gans]


def train_subset(n_train: int, n: int, seed: int) -> Any:
    """``n`` seeded random indices of the training split (a split may be stored class by class: its first ``n``
    images would hold a few classes only)."""
    import torch

    return torch.randperm(n_train, generator=torch.Generator().manual_seed(int(seed)))[: min(n, n_train)]


def msssim_fields(m: dict[str, Any]) -> dict[str, Any]:
    """One source's MS-SSIM in a record: the mean over classes and the spread *across classes* (the report's ±).
    The key is not ``ms_ssim_std``: over seeds, the aggregate's ``ms_ssim_std`` is the spread across seeds."""
    return {"ms_ssim": m["value"], "ms_ssim_class_std": m["std"], "ms_ssim_protocol": m["protocol"]}


def run_gan_metrics(cfg: GanReproConfig, sh: Any, run_dir: RunDir) -> list[dict[str, Any]]:
    import torch

    from ganlab.core.features import extract_features
    from ganlab.core.metrics.fid import fid_from_features
    from ganlab.multigan_boosting.gan_eval import class_sequential_samples, fid_5k, intra_class_msssim
    from ganlab.multigan_boosting.repro import checkpoint_label  # lazy: repro imports this module

    p = cfg.experiment
    test_x = sh.splits.test[0]
    train_x, train_y = sh.splits.train
    records = []
    for seed in p.seeds:
        filt, _ = sh.filter(seed)
        ext = _extractor(p, filt) if "fid_5k" in p.metrics else None
        for src in p.sources:
            rec: dict[str, Any] = {"source": src.name, "scheme": src.scheme, "gans": str(src.gans), "seed": seed}
            if src.scheme != "real":
                rec["gan_checkpoint"] = checkpoint_label(sh.cfg.experiment)
            gens = None if src.scheme == "real" else _generators(sh, seed, src)
            if "ms_ssim" in p.metrics:
                if gens is None:
                    images, labels = train_x, train_y
                else:
                    per = p.n_msssim // sh.splits.num_classes
                    images, labels, _ = class_sequential_samples(
                        gens, p.n_msssim, batch_size=min(p.fid_batch, per), weights=src.weights, psi=src.psi, seed=seed
                    )
                m = intra_class_msssim(images, labels, n_pairs=p.n_pairs, seed=seed)
                rec.update(msssim_fields(m))
            if "fid_5k" in p.metrics:
                if src.scheme == "real":  # the report's 10.31: training vs test set
                    pick = train_subset(len(train_x), p.n_fid, seed)
                    with torch.no_grad():
                        a = extract_features(ext, train_x[pick], progress=False)
                        b = extract_features(ext, test_x[: p.n_test_fid], progress=False)
                    f = {
                        "value": float(fid_from_features(b, a)),
                        "protocol": f"train (random {len(pick)} of {len(train_x)}) vs test ({p.n_test_fid})",
                    }
                else:
                    f = fid_5k(
                        gens, test_x, ext, n=p.n_fid, n_test=p.n_test_fid, batch_size=p.fid_batch,
                        weights=src.weights, psi=src.psi, seed=seed,
                    )  # fmt: skip
                rec.update({"fid": f["value"], "fid_protocol": f["protocol"], "fid_extractor": p.extractor})
            rec.update({"paper_ms_ssim": src.paper_ms_ssim, "paper_fid": src.paper_fid})
            records.append(rec)
            run_dir.log_metrics({"event": "result", **rec})
    return records


def run_figures(cfg: GanReproConfig, sh: Any, run_dir: RunDir) -> list[dict[str, Any]]:
    import torch

    from ganlab.multigan_boosting.boost import synthetic_features
    from ganlab.multigan_boosting.gan_eval import class_sequential_samples, tsne_samples_figure, tsne_weights_figure
    from ganlab.multigan_boosting.weights import extract_features, sample_weights

    p = cfg.experiment
    train_x, train_y = sh.splits.train
    k = sh.splits.num_classes
    records = []
    for seed in p.seeds:
        filt, _ = sh.filter(seed)
        G = sh.gans(seed, "baseline", 1)[0]
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(len(train_y), min(p.n_tsne, len(train_y)), replace=False))
        real_f = extract_features(filt, train_x[pick])
        n_fake = (p.n_tsne // k) * k
        for psi, fig in ((None, "figure1"), (p.figure_psi, "figureB1")):
            if fig == "figureB1" and psi is None:
                continue
            x, y, _ = class_sequential_samples(G, n_fake, batch_size=n_fake // k, psi=psi, seed=seed)
            path = run_dir.path / f"{fig}_seed{seed}.png"
            tsne_samples_figure(real_f.numpy(), train_y[pick].numpy(), extract_features(filt, x).numpy(), y.numpy(),
                                path, seed=seed, title=f"filter-net features: real vs BigGAN (psi={psi})")  # fmt: skip
            records.append({"figure": fig, "seed": seed, "psi": psi, "png": str(path), "n_per_panel": int(n_fake)})
        # Algorithm 1 against the base GAN: phi of the real set and of D_G once, then each transform
        all_real_f = extract_features(filt, train_x)
        fake_f, fake_y = synthetic_features([G], filt, len(train_y), n_per_gan=p.n_per_gan, seed=seed)
        cls = (train_y == p.figure_class).numpy()
        panels, summaries = {}, {}
        for t, label in (("A_mu", "A_mu (threshold mu)"), ("C", "C (no threshold)"), ("B", "B (sigmoid, App. B.2)")):
            res = sample_weights(all_real_f, train_y, fake_f, fake_y, t, equalize_class_mass=p.equalize_class_mass)
            panels[label], summaries[t] = res.weights[cls], res.summary()
        feats = all_real_f[torch.from_numpy(cls)].numpy()
        path = run_dir.path / f"figure2_seed{seed}.png"
        tsne_weights_figure(feats, panels, path, seed=seed, title=f"class {p.figure_class}: Algorithm 1 weights")
        for t, s in summaries.items():
            records.append({
                "figure": "figure2", "seed": seed, "transform": t, "class": p.figure_class, "png": str(path),
                "zero_weight_fraction": s["zero_weight_fraction"], "effective_sample_size": s["effective_sample_size"],
                "n_real": s["n_real"],
            })  # fmt: skip
    return records


def run_gan_protocol(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    from ganlab.multigan_boosting.repro import Shared, aggregate  # lazy: repro imports this module

    cfg = load_gan_repro_config(config, scale, overrides)
    save_config(cfg, run_dir.path / "repro_config.yaml")
    view = copy.copy(cfg)
    view.experiment = cfg.shared_protocol
    sh = Shared(view, scale, run_dir)  # its root: experiment.shared_dir or OUT/multigan/<shared_name>/<scale>
    runner = {"gan_metrics": run_gan_metrics, "figures": run_figures}[cfg.experiment.kind]
    records = runner(cfg, sh, run_dir)
    if len(cfg.experiment.seeds) > 1 and cfg.experiment.kind == "gan_metrics":
        records += aggregate(records, ("source",))
    return records


def _exp(name: str, description: str, scales: tuple[str, ...] = ("smoke", "mini", "paper")) -> Experiment:
    return Experiment(name=name, paper="multigan", description=description, config=CONFIGS / f"{name}.yaml",
                      run=run_gan_protocol, scales=scales)  # fmt: skip


GAN_EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        _exp("table2", "Table 2: MS-SSIM and 5k FID of real, single, truncated, ensemble and re-weighted sources"),
        _exp("table4", "Table 4: MS-SSIM and 5k FID of |G| = 2 ensembles (baseline, B, C, A_sigma, A_mu)"),
        _exp("fid_a2", "Appendix A.2: 5k FID of every single GAN (it1, it2) and ensemble (n = 2..5)"),
        _exp("figures", "Figures 1, 2 (and B.1, B.2): t-SNE of real vs generated features and of Algorithm 1 weights"),
        _exp(
            "mini_c",
            "Mini (c): second GAN on Algorithm 1 weights (B, C) vs an unweighted second GAN",
            ("smoke", "mini"),
        ),
    )
}
