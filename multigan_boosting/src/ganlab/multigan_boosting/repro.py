"""Reproductions of Slim (2020), on core's harness: ``ganlab repro run multigan-boosting/EXP --scale S``.

Every experiment is a YAML file under ``configs/`` inheriting ``_classify.yaml``: ``protocol`` (core's
:class:`~ganlab.core.evaluation.EvalProtocol`: the GANs' checkpoint rule and, for the 5k FID, network and counts;
``ganlab repro show multigan-boosting/EXP`` says it in words), ``seeds``, ``experiment`` (the package's own, below),
the data split, the classifier protocol and ``gan`` (the core training config of every GAN, at the same scale).
:mod:`ganlab.core.repro_harness` runs every (arm, seed), resumably; :class:`BoostHooks` gives each arm its
generators from the filter net and GAN sequences shared by all experiments (:mod:`~.sequences`) and evaluates it:

- ``table1``: one arm, a column of Table 1 (fixed / on-the-fly x transforms x filter x truncation, or the real
  baseline): a classifier trained on the base GAN's samples;
- ``ensembles``: Table 3, one arm per row: classifiers on |G| = 1..n ensembles of independent GANs (baseline), of
  GANs trained on Algorithm 1's re-weighted data (A_mu, A_sigma, B, C), and the weighted |G| = 2 row;
- ``classify_synthetic``: §4.1, the filter net's accuracy on raw samples of the base GAN (and with psi = 1.5);
- ``gan_metrics`` (Tables 2, 4, A.2, mini c): one arm per source, intra-class MS-SSIM and the 5k FID;
- ``figures``: Figures 1, 2 (B.1, B.2): t-SNE sheets (:mod:`~ganlab.multigan_boosting.gan_repro`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganlab.core.config import load_config, save_config, to_dict
from ganlab.core.errors import ConfigError
from ganlab.core.repro import Experiment, protocol_from_config
from ganlab.core.repro_harness import Arm, Harness, Hooks, ReproSpec, aggregate
from ganlab.core.results import RunDir
from ganlab.multigan_boosting.classifier import ClassifierConfig
from ganlab.multigan_boosting.classify import DataConfig, SourceConfig, run_classify

CONFIGS = Path(__file__).parent / "configs"
KINDS = ("table1", "ensembles", "classify_synthetic", "gan_metrics", "figures")
SCHEMES = ("baseline", "A_mu", "A_sigma", "B", "C")
KEEP = ("best_test_accuracy", "val_selected_test_accuracy", "final_test_accuracy", "best_test_epoch",
        "val_selected_epoch", "acceptance_rate", "protocol")  # fmt: skip


@dataclass
class GanSource:
    """One image source of ``gan_metrics``: ``real``, or GANs ``gans`` (indices in the sequence) of ``scheme``."""

    name: str = "BigGAN"
    scheme: str = "baseline"
    gans: list[int] = field(default_factory=lambda: [0])
    psi: float | None = None
    weights: list[float] | None = None  # ensemble choice probabilities (None: uniform)
    paper_ms_ssim: float | None = None
    paper_fid: float | None = None


@dataclass
class Options:
    """``experiment:``, what is the package's own, by kind; the last group sets up the shared GAN sequences."""

    kind: str = "table1"
    column: str = "M"  # table1: the report's script letter (B..N) or "baseline"
    fixed: bool = False
    transform: bool = True
    filter: bool = True
    truncation: float | None = None
    max_gans: int = 3  # ensembles: |G| = 1..max_gans
    schemes: list[str] = field(default_factory=lambda: ["baseline"])
    weighted: list[float] | None = None  # ensembles: the weighted |G| = len(weighted) row of each conditioned scheme
    n_classify: int = 10000  # classify_synthetic: samples per source
    sources: list[GanSource] = field(default_factory=list)  # gan_metrics
    ms_ssim: bool = True  # gan_metrics: intra-class MS-SSIM (the 5k FID: "fid" in protocol.metrics)
    n_msssim: int = 4000  # class-sequential samples the pairs are drawn from (the report: 4000 per source)
    n_pairs: int = 200
    n_tsne: int = 2000  # figures: images per panel
    figure_class: int = 8  # figures: the class of Figure 2 (CIFAR-10 "ship")
    figure_psi: float | None = 0.5  # figures: also the Appendix B.1 sheet with this psi (null: none)
    synthetic: str = "union"  # Algorithm 1's synthetic set for GAN i+1 (union of the previous GANs, or "previous")
    equalize_class_mass: bool = False
    n_per_gan: int | None = None  # Algorithm 1: samples per previous GAN (None: as many as real images, the report)
    shared_dir: str | None = None
    shared_name: str = "_shared"  # default shared folder OUT/multigan/<shared_name>/<scale>
    gan_seed: int | None = None  # one GAN sequence (this seed) for every classifier seed; None: one per seed

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"experiment.kind must be one of {KINDS}, got {self.kind!r}")
        bad = sorted(set(self.schemes) - set(SCHEMES))
        if bad:
            raise ConfigError(f"experiment.schemes {bad} unknown; choose from {SCHEMES}")
        if self.max_gans < 1:
            raise ConfigError("experiment.max_gans must be >= 1")
        if self.weighted is not None and (len(self.weighted) > self.max_gans or min(self.weighted) < 0):
            raise ConfigError(f"experiment.weighted {self.weighted}: at most max_gans non-negative weights")
        for s in self.sources:
            if s.scheme not in ("real", *SCHEMES):
                raise ConfigError(f"source {s.name!r}: scheme {s.scheme!r} unknown; choose from {('real', *SCHEMES)}")
            if s.scheme != "real" and (not s.gans or min(s.gans) < 0):
                raise ConfigError(f"source {s.name!r}: gans must list GAN indices >= 0")
            if s.weights is not None and len(s.weights) != len(s.gans):
                raise ConfigError(f"source {s.name!r}: {len(s.weights)} weights for {len(s.gans)} GANs")


@dataclass
class GanConfig:
    config: str = "biggan32_cifar_multigan"  # a core training config (shipped name or path), at the same scale
    overrides: list[str] = field(default_factory=list)


@dataclass
class BoostArm(Arm):
    """One row of a table (its columns in ``info``): ``index`` into ``experiment.sources`` (gan_metrics), ``psi``
    of the sampled z (classify_synthetic)."""

    index: int = 0
    psi: float | None = None


@dataclass
class BoostSpec(ReproSpec):
    experiment: Options = field(default_factory=Options)
    arms: list[BoostArm] = field(default_factory=lambda: [BoostArm("baseline")])  # built from the experiment
    data: DataConfig = field(default_factory=DataConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    gan: GanConfig = field(default_factory=GanConfig)
    device: str = "auto"

    def validate(self) -> None:
        super().validate()
        if self.protocol.checkpoint.choice == "best_and_last":
            raise ConfigError("protocol.checkpoint.choice: the GAN sequences use one G per run, 'last' or 'best'")


def build_arms(e: Options) -> list[BoostArm]:
    """The rows of the experiment's table, in the report's order."""
    if e.kind == "table1":
        if e.column == "baseline":
            return [BoostArm("baseline", info={"column": "baseline", "source": "real"})]
        flags = {"fixed": e.fixed, "transform": e.transform, "filter": e.filter, "truncation": e.truncation}
        return [BoostArm(e.column, info={"column": e.column, **flags})]
    if e.kind == "ensembles":
        arms = []
        for scheme in e.schemes:
            rows: list[tuple[int, list[float] | None]] = [
                (n, None) for n in range(1 if scheme == "baseline" else 2, e.max_gans + 1)
            ]
            if e.weighted is not None and scheme != "baseline":
                rows.append((len(e.weighted), list(e.weighted)))
            for n, w in rows:
                info = {"scheme": scheme, "n_gans": n, "weights": w}
                arms.append(BoostArm(f"{scheme}_G{n}" + ("_weighted" if w else ""), info=info))
        return arms
    if e.kind == "classify_synthetic":
        return [BoostArm("G", info={"source": "G"}), BoostArm("G_psi1.5", info={"source": "G psi=1.5"}, psi=1.5)]
    if e.kind == "gan_metrics":
        keys = ("scheme", "paper_ms_ssim", "paper_fid")
        return [
            BoostArm(
                re.sub(r"[^\w.=-]+", "_", s.name),
                index=i,
                info={"source": s.name, "gans": str(s.gans), **{k: getattr(s, k) for k in keys}},
            )
            for i, s in enumerate(e.sources)
        ]
    return [BoostArm("figures")]


def load_repro_config(path: str | Path, scale: str | None, overrides: Sequence[str] = ()) -> BoostSpec:
    """The experiment at ``scale`` with its arms; ``run`` is the GANs' core training config at the same scale."""
    from ganlab.core.train.config import load_experiment

    spec = load_config(BoostSpec, path, overrides, scale)
    spec.run = to_dict(load_experiment(spec.gan.config, spec.gan.overrides, scale))
    spec.arms = build_arms(spec.experiment)
    spec.validate()
    return spec


class BoostHooks(Hooks):
    """The package's steps in the harness: the shared filter net and GAN sequences give each arm its generators
    (none for the real-data rows), a classifier trained on their samples (or MS-SSIM / 5k FID, or the figures)
    scores them."""

    def __init__(self, spec: BoostSpec, scale: str) -> None:
        self.spec, self.scale = spec, scale
        self.sh: Any = None
        self.ext: dict[int, Any] = {}

    def dataset(self, h: Harness) -> Any:
        from ganlab.core.data import subset
        from ganlab.multigan_boosting.sequences import Shared

        # the GANs' training config: the protocol's checkpoint rule included (best G by IS every N steps)
        self.sh = Shared(self.spec, self.scale, h.run_dir, lambda seed: h.train_config(Arm("gan"), seed))
        return subset(self.sh.splits.dataset, self.sh.splits.train_indices)

    def generators(self, h: Harness, arm: BoostArm, seed: int) -> list[tuple[str, Any, int | None]]:
        e, sh, which = self.spec.experiment, self.sh, h.protocol.checkpoint.choice
        sh.filter(seed)  # the filter net first: Algorithm 1's phi and every evaluation need it
        if arm.info.get("source") == "real" or (e.kind == "gan_metrics" and e.sources[arm.index].scheme == "real"):
            return [(None, None, None)]
        if e.kind == "ensembles":
            return [(which, sh.gans(seed, arm.info["scheme"], e.max_gans)[: arm.info["n_gans"]], None)]
        if e.kind == "gan_metrics":
            src = e.sources[arm.index]
            gens = sh.gans(seed, src.scheme, max(src.gans) + 1)
            return [(which, [gens[i] for i in src.gans], None)]
        return [(which, sh.gans(seed, "baseline", 1), None)]

    def evaluate(self, h: Harness, arm: BoostArm, seed: int, G: Any, trainer: Any) -> list[dict[str, Any]]:
        from ganlab.multigan_boosting import gan_repro

        e, sh, out = self.spec.experiment, self.sh, h.run_dir.path / f"seed{seed}"
        filt, base = sh.filter(seed)
        if e.kind == "gan_metrics":
            if "fid" in h.protocol.metrics and seed not in self.ext:
                self.ext[seed] = gan_repro.extractor(h.protocol, filt)
            src = e.sources[arm.index]
            return [gan_repro.gan_metrics(e, h.protocol, sh.splits, src, G, self.ext.get(seed), seed)]
        if e.kind == "figures":
            return gan_repro.figures(e, sh.splits, filt, G[0], seed, h.run_dir.path)
        if e.kind == "classify_synthetic":
            return [self.classify_synthetic(arm, seed, G[0], filt, base)]
        if G is None:  # Table 1's baseline: the filter net itself
            return [{k: base[k] for k in KEEP if k in base}]
        if e.kind == "table1":
            src = dataclasses.replace(self.spec.source, fixed=e.fixed, transform=e.transform, truncation=e.truncation)
            name, filt = f"table1_{e.column}", filt if e.filter else None
        else:  # ensembles: on-the-fly + T + F, uniform or weighted choice of the generator
            src = dataclasses.replace(self.spec.source, weights=arm.info["weights"])
            name, out = arm.name, out / arm.name
        _, rec = run_classify(
            sh.classify_cfg(seed, src, name), splits=sh.splits, generators=G, filter_model=filt, out=out
        )
        return [{k: rec[k] for k in KEEP if k in rec}]

    def classify_synthetic(self, arm: BoostArm, seed: int, G: Any, filt: Any, base: dict[str, Any]) -> dict[str, Any]:
        """§4.1: accuracy of the real-trained filter net on raw generated samples (no transform, no filter)."""
        import torch

        from ganlab.core.features.classifier import evaluate_accuracy
        from ganlab.multigan_boosting.synthetic import SyntheticSource

        n = self.spec.experiment.n_classify
        src = SyntheticSource(G, self.sh.splits.num_classes, truncation=arm.psi, gen_batch_size=500, seed=seed)
        xs, ys = zip(*[src.next_batch(min(500, n - i)) for i in range(0, n, 500)])
        return {
            "accuracy": evaluate_accuracy(filt, torch.cat(xs).cpu(), torch.cat(ys).cpu()),
            "real_test_accuracy": base["final_test_accuracy"],
            "protocol": f"filter net ({self.spec.classifier.arch}, final epoch) on {n} raw samples",
        }

    def finish(self, h: Harness, per_seed: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The per-seed rows, then (several seeds, not the figures) their mean ± std per arm."""
        if self.spec.experiment.kind == "figures" or len(self.spec.seeds) < 2:
            return per_seed
        cols = ["arm", *dict.fromkeys(k for a in self.spec.arms for k in a.columns())]
        return per_seed + aggregate(per_seed, ("arm",), h.metric_columns(per_seed), columns=cols)


def run_protocol(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    spec = load_repro_config(config, scale, overrides)
    save_config(spec, run_dir.path / "repro_config.yaml")
    return Harness(spec, run_dir, BoostHooks(spec, scale)).run()


# ---------------------------------------------------------------------------------------------------- registry
TABLE1 = {  # script letter -> (fixed, transform, filter, truncated); reference notes §1.4
    "B": "fixed", "C": "fixed + T", "D": "fixed + F", "E": "fixed + trunc", "F": "fixed + T + F",
    "G": "fixed + T + F + trunc", "I": "on-the-fly", "J": "on-the-fly + T", "K": "on-the-fly + F",
    "L": "on-the-fly + trunc", "M": "on-the-fly + T + F (best)", "N": "on-the-fly + T + F + trunc",
    "baseline": "real data (the filter net)",
}  # fmt: skip


def _exp(name: str, description: str, scales: tuple[str, ...] = ("smoke", "mini", "paper")) -> Experiment:
    config = CONFIGS / f"{name}.yaml"
    return Experiment(name=name, paper="multigan", description=description, config=config, run=run_protocol,
                      scales=scales, protocol=protocol_from_config(config))  # fmt: skip


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        *(_exp(f"table1_{k}", f"Table 1 column {k}: {v}") for k, v in TABLE1.items()),
        _exp("table3", "Table 3: ensembles |G| = 1-3 (baseline) and Algorithm 1 re-weighted |G| = 2, 3 (A_mu, "
             "A_sigma, B, C), weighted (3/4, 1/4)"),
        _exp("classify_synthetic", "§4.1: the real-data filter net's accuracy on raw / psi = 1.5 samples"),
        _exp("table2", "Table 2: MS-SSIM and 5k FID of real, single, truncated, ensemble and re-weighted sources"),
        _exp("table4", "Table 4: MS-SSIM and 5k FID of |G| = 2 ensembles (baseline, B, C, A_sigma, A_mu)"),
        _exp("fid_a2", "Appendix A.2: 5k FID of every single GAN (it1, it2) and ensemble (n = 2..5)"),
        _exp("figures", "Figures 1, 2 (and B.1, B.2): t-SNE of real vs generated features and of Algorithm 1 weights"),
        _exp("mini_c", "Mini (c): second GAN on Algorithm 1 weights (B, C) vs an unweighted second GAN",
             ("smoke", "mini")),
    ]
}  # fmt: skip
