"""Reproductions of Slim (2020) (``ganlab multigan repro EXP --scale smoke|mini|paper``).

Every experiment is a YAML file under ``configs/`` inheriting ``_classify.yaml`` (data split, classifier protocol,
the base GAN's core config, scales). Kinds:

- ``table1``: one column of Table 1 (fixed / on-the-fly x transforms x filter x truncation, or the real baseline).
- ``ensembles``: Table 3, classifiers on |G| = 1..n ensembles of independent GANs (baseline), of GANs trained on
  Algorithm 1's re-weighted data (schemes A_mu, A_sigma, B, C), and the weighted (3/4, 1/4) |G| = 2 row.
- ``classify_synthetic``: §4.1, the filter net's accuracy on raw samples of the base GAN (and with psi = 1.5).

Shared between experiments of one scale and seed (``experiment.shared_dir``, default
``OUT/multigan/<experiment.shared_name>/SCALE``): the filter classifier (trained on the real split with the
classifier protocol: it is also Table 1's baseline, as in the report) and the GAN sequences
(``gans_seedS/<scheme>/gan_i``; gan_0 is the base GAN of every scheme).
Part B's Table 2 / Table 4 / Appendix A.2 / Figure experiments come from :mod:`ganlab.multigan_boosting.gan_repro`.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.config import load_config, save_config
from ganlab.core.errors import ConfigError
from ganlab.core.repro import Experiment
from ganlab.core.results import RunDir
from ganlab.multigan_boosting.classifier import ClassifierConfig
from ganlab.multigan_boosting.classify import (
    ClassifyConfig,
    DataConfig,
    SourceConfig,
    Splits,
    load_splits,
    run_classify,
)

CONFIGS = Path(__file__).parent / "configs"
KINDS = ("table1", "ensembles", "classify_synthetic")
SCHEMES = ("baseline", "A_mu", "A_sigma", "B", "C")


@dataclass
class ProtocolConfig:
    kind: str = "table1"
    column: str = "M"  # table1: the report's script letter (B..N) or "baseline"
    fixed: bool = False
    transform: bool = True
    filter: bool = True
    truncation: float | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    max_gans: int = 3  # ensembles: |G| = 1..max_gans
    schemes: list[str] = field(default_factory=lambda: ["baseline"])
    weighted: list[float] | None = None  # ensembles: the weighted |G| = len(weighted) row of each conditioned scheme
    synthetic: str = "union"  # Algorithm 1's synthetic set for GAN i+1 (union of the previous GANs, or "previous")
    equalize_class_mass: bool = False
    n_per_gan: int | None = None  # Algorithm 1: samples per previous GAN (None: as many as real images, the report)
    n_classify: int = 10000  # classify_synthetic: samples per source
    shared_dir: str | None = None
    shared_name: str = "_shared"  # default shared folder OUT/multigan/<shared_name>/<scale>
    gan_seed: int | None = None  # one GAN sequence (this seed) for every classifier seed; None: one per seed
    # the G kept of each GAN run: "last" (the final G_ema) or "best" (core's BestSelector: ``best_metric`` measured
    # every ``eval_every`` steps; the official run keeps the best G by IS, tested every 5k iterations)
    checkpoint: str = "last"
    best_metric: str = "is"
    eval_every: int = 5000

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"experiment.kind must be one of {KINDS}, got {self.kind!r}")
        check_checkpoint(self.checkpoint, self.best_metric, self.eval_every)
        bad = sorted(set(self.schemes) - set(SCHEMES))
        if bad:
            raise ConfigError(f"experiment.schemes {bad} unknown; choose from {SCHEMES}")
        if not self.seeds or self.max_gans < 1:
            raise ConfigError("experiment.seeds must list a seed and experiment.max_gans must be >= 1")
        if self.weighted is not None and (len(self.weighted) > self.max_gans or min(self.weighted) < 0):
            raise ConfigError(f"experiment.weighted {self.weighted}: at most max_gans non-negative weights")


def check_checkpoint(checkpoint: str, best_metric: str, eval_every: int) -> None:
    from ganlab.core.train.config import SELECTABLE

    if checkpoint not in ("last", "best"):
        raise ConfigError(f"experiment.checkpoint must be 'last' or 'best', got {checkpoint!r}")
    if checkpoint == "best" and (best_metric not in SELECTABLE or int(eval_every) < 1):
        raise ConfigError(
            f"experiment.checkpoint 'best' needs best_metric in {sorted(SELECTABLE)} and eval_every >= 1, got "
            f"{best_metric!r}, {eval_every}"
        )


def checkpoint_label(p: ProtocolConfig) -> str:
    """The GAN checkpoint rule as it goes into result records."""
    return "last" if p.checkpoint == "last" else f"best {p.best_metric}, evaluated every {p.eval_every} steps"


@dataclass
class GanConfig:
    config: str = "biggan32_cifar_multigan"  # a core training config (shipped name or path), at the same scale
    overrides: list[str] = field(default_factory=list)


@dataclass
class ReproConfig:
    experiment: ProtocolConfig = field(default_factory=ProtocolConfig)
    data: DataConfig = field(default_factory=DataConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    gan: GanConfig = field(default_factory=GanConfig)
    device: str = "auto"


def load_repro_config(path: str | Path, scale: str | None, overrides: Sequence[str] = ()) -> ReproConfig:
    cfg = load_config(ReproConfig, path, overrides, scale)
    cfg.experiment.validate()
    cfg.source.validate()
    cfg.classifier.validate()
    return cfg


def gan_experiment_config(cfg: ReproConfig, scale: str, seed: int):
    """The core training config of the GANs, with the protocol's checkpoint rule: for ``checkpoint: best`` core's
    periodic evaluation (``eval.every``) and BestSelector (``eval.select_best``) keep ``best_G.pt`` in each run."""
    from ganlab.core.train.config import SELECTABLE, load_experiment

    ecfg = load_experiment(cfg.gan.config, cfg.gan.overrides, scale)
    ecfg.seed = int(seed)
    p = cfg.experiment
    if p.checkpoint == "best":
        need = SELECTABLE[p.best_metric]
        ecfg.eval.metrics = list(ecfg.eval.metrics) + ([need] if need not in ecfg.eval.metrics else [])
        ecfg.eval.every, ecfg.eval.select_best = int(p.eval_every), p.best_metric
        ecfg.eval.validate()
    return ecfg


# ------------------------------------------------------------------------------------------------ shared parts
class Shared:
    """The filter net and GAN sequences of one scale, trained once and reused by every experiment."""

    def __init__(self, cfg: ReproConfig, scale: str, run_dir: RunDir) -> None:
        self.cfg, self.scale = cfg, scale
        p = cfg.experiment
        self.root = Path(p.shared_dir) if p.shared_dir else run_dir.path.parents[1] / p.shared_name / scale
        self.splits: Splits = load_splits(cfg.data)

    def classify_cfg(self, seed: int, source: SourceConfig | None = None, name: str = "classifier") -> ClassifyConfig:
        return ClassifyConfig(
            name=name, seed=seed, device=self.cfg.device, data=self.cfg.data, source=source or SourceConfig(),
            classifier=copy.deepcopy(self.cfg.classifier),
        )  # fmt: skip

    def filter(self, seed: int) -> tuple[Any, dict[str, Any]]:
        """The real-data classifier (flip + crop augmentation): the report's filter, phi and baseline."""
        import json

        from ganlab.core.features.classifier import load_classifier

        out = self.root / f"filter_seed{seed}"
        if (out / "result.json").is_file() and (out / "classifier.pt").is_file():
            return load_classifier(out / "classifier.pt")[0], json.loads((out / "result.json").read_text())
        src = dataclasses.replace(self.cfg.source, generators=[], weights=None, transform=True, filter=None)
        model, rec = run_classify(self.classify_cfg(seed, src, "real_baseline"), splits=self.splits, out=out)
        return model, rec

    def gan_config(self, seed: int):
        return gan_experiment_config(self.cfg, self.scale, seed)

    def gans(self, seed: int, scheme: str, n: int) -> list[Any]:
        """The selected G of GAN 0..n-1 of a sequence (``baseline``: independent seeds; else Algorithm 1)."""
        from ganlab.core.data import subset
        from ganlab.multigan_boosting.boost import selected_generator, train_boosted

        if self.cfg.experiment.gan_seed is not None:
            seed = self.cfg.experiment.gan_seed
        root = self.root / f"gans_seed{seed}"
        base = root / "baseline" / "gan_0"
        ds = subset(self.splits.dataset, self.splits.train_indices)
        if scheme != "baseline":
            self.gans(seed, "baseline", 1)
            target = root / f"{scheme}_{self.cfg.experiment.synthetic}" / "gan_0"
            if not target.exists():  # gan_multi_0 of every conditioned ensemble is the base GAN (reference notes §0)
                shutil.copytree(base, target)
        feature_net = self.filter(seed)[0] if scheme != "baseline" and n > 1 else None
        seq = base.parent if scheme == "baseline" else root / f"{scheme}_{self.cfg.experiment.synthetic}"
        runs = train_boosted(
            self.gan_config(seed),
            n,
            seq,
            feature_net,
            "C" if scheme == "baseline" else scheme,
            synthetic=self.cfg.experiment.synthetic,
            equalize_class_mass=self.cfg.experiment.equalize_class_mass,
            n_per_gan=self.cfg.experiment.n_per_gan,
            dataset=ds,
            reweight=scheme != "baseline",
        )
        return [selected_generator(r, checkpoint=self.cfg.experiment.checkpoint) for r in runs]


# ------------------------------------------------------------------------------------------------- the runners
def _record(kind_fields: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    keep = ("best_test_accuracy", "val_selected_test_accuracy", "final_test_accuracy", "best_test_epoch",
            "val_selected_epoch", "acceptance_rate", "protocol")  # fmt: skip
    return {**kind_fields, **{k: rec[k] for k in keep if k in rec}}


def run_table1(cfg: ReproConfig, sh: Shared, run_dir: RunDir) -> list[dict[str, Any]]:
    p = cfg.experiment
    records = []
    for seed in p.seeds:
        filt, base_rec = sh.filter(seed)
        head = {"column": p.column, "seed": seed}
        if p.column == "baseline":  # no GAN: no checkpoint rule in the record
            records.append(_record({**head, "source": "real"}, base_rec))
            run_dir.log_metrics({"event": "result", **records[-1]})
            continue
        src = dataclasses.replace(cfg.source, fixed=p.fixed, transform=p.transform, truncation=p.truncation)
        G = sh.gans(seed, "baseline", 1)
        _, rec = run_classify(
            sh.classify_cfg(seed, src, f"table1_{p.column}"), splits=sh.splits, generators=G,
            filter_model=filt if p.filter else None, out=run_dir.path / f"seed{seed}",
        )  # fmt: skip
        flags = {"fixed": p.fixed, "transform": p.transform, "filter": p.filter, "truncation": p.truncation,
                 "gan_checkpoint": checkpoint_label(p)}  # fmt: skip
        records.append(_record({**head, **flags}, rec))
        run_dir.log_metrics({"event": "result", **records[-1]})
    return records


def run_ensembles(cfg: ReproConfig, sh: Shared, run_dir: RunDir) -> list[dict[str, Any]]:
    p = cfg.experiment
    records = []
    for seed in p.seeds:
        filt, _ = sh.filter(seed)
        for scheme in p.schemes:
            gens = sh.gans(seed, scheme, p.max_gans)
            rows: list[tuple[int, list[float] | None]] = [
                (n, None) for n in range(1 if scheme == "baseline" else 2, len(gens) + 1)
            ]
            if p.weighted is not None and scheme != "baseline":
                rows.append((len(p.weighted), list(p.weighted)))
            for n, w in rows:
                src = dataclasses.replace(cfg.source, weights=w)
                tag = f"{scheme}_G{n}" + ("_weighted" if w else "")
                _, rec = run_classify(
                    sh.classify_cfg(seed, src, tag), splits=sh.splits, generators=gens[:n], filter_model=filt,
                    out=run_dir.path / f"seed{seed}" / tag,
                )  # fmt: skip
                head = {
                    "scheme": scheme,
                    "n_gans": n,
                    "weights": w,
                    "seed": seed,
                    "gan_checkpoint": checkpoint_label(p),
                }
                records.append(_record(head, rec))
                run_dir.log_metrics({"event": "result", **records[-1]})
    return records


def run_classify_synthetic(cfg: ReproConfig, sh: Shared, run_dir: RunDir) -> list[dict[str, Any]]:
    """§4.1: accuracy of the real-trained filter net on raw generated samples (no transform, no filter)."""
    import torch

    from ganlab.core.features.classifier import evaluate_accuracy
    from ganlab.multigan_boosting.synthetic import SyntheticSource

    p = cfg.experiment
    records = []
    for seed in p.seeds:
        filt, base = sh.filter(seed)
        G = sh.gans(seed, "baseline", 1)[0]
        for psi in (None, 1.5):
            src = SyntheticSource(G, sh.splits.num_classes, truncation=psi, gen_batch_size=500, seed=seed)
            xs, ys = zip(*[src.next_batch(min(500, p.n_classify - i)) for i in range(0, p.n_classify, 500)])
            acc = evaluate_accuracy(filt, torch.cat(xs).cpu(), torch.cat(ys).cpu())
            records.append({
                "source": "G" if psi is None else f"G psi={psi}", "seed": seed, "accuracy": acc,
                "real_test_accuracy": base["final_test_accuracy"], "gan_checkpoint": checkpoint_label(p),
                "protocol": f"filter net ({cfg.classifier.arch}, final epoch) on {p.n_classify} raw samples",
            })  # fmt: skip
    return records


def aggregate(records: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Mean (``c``) and std (ddof = 1, ``c_std``) over seeds of the numeric columns ``c``, per group of ``keys``.
    A record that already has a column ``c_std`` next to ``c`` is refused: the two quantities would share a key."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        clash = sorted(c for c in r if f"{c}_std" in r and isinstance(r[c], (int, float)))
        if clash:
            raise ValueError(f"records hold both {clash[0]!r} and {clash[0] + '_std'!r}: rename the second")
        groups.setdefault(tuple(str(r.get(k)) for k in keys), []).append(r)
    out = []
    for rows in groups.values():
        agg: dict[str, Any] = {k: rows[0].get(k) for k in keys if k in rows[0]}
        agg["seed"] = f"mean of {len(rows)}"
        for c, v in rows[0].items():
            if c in (*keys, "seed") or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            vals = np.array([r[c] for r in rows if isinstance(r.get(c), (int, float))], dtype=np.float64)
            agg[c], agg[f"{c}_std"] = float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        out.append(agg)
    return out


def run_protocol(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    cfg = load_repro_config(config, scale, overrides)
    save_config(cfg, run_dir.path / "repro_config.yaml")
    sh = Shared(cfg, scale, run_dir)
    runner = {"table1": run_table1, "ensembles": run_ensembles, "classify_synthetic": run_classify_synthetic}
    records = runner[cfg.experiment.kind](cfg, sh, run_dir)
    keys = ("column", "scheme", "n_gans", "weights", "source")
    return records + aggregate(records, keys) if len(cfg.experiment.seeds) > 1 else records


# ---------------------------------------------------------------------------------------------------- registry
TABLE1 = {  # script letter -> (fixed, transform, filter, truncated); reference notes §1.4
    "B": "fixed", "C": "fixed + T", "D": "fixed + F", "E": "fixed + trunc", "F": "fixed + T + F",
    "G": "fixed + T + F + trunc", "I": "on-the-fly", "J": "on-the-fly + T", "K": "on-the-fly + F",
    "L": "on-the-fly + trunc", "M": "on-the-fly + T + F (best)", "N": "on-the-fly + T + F + trunc",
    "baseline": "real data (the filter net)",
}  # fmt: skip


def _exp(name: str, description: str, status: dict[str, str] | None = None) -> Experiment:
    return Experiment(name=name, paper="multigan", description=description, config=CONFIGS / f"{name}.yaml",
                      run=run_protocol, status=status or {})  # fmt: skip


def _experiments() -> dict[str, Experiment]:
    exps = [_exp(f"table1_{k}", f"Table 1 column {k}: {v}") for k, v in TABLE1.items()]
    exps += [
        _exp("table3", "Table 3: ensembles |G| = 1-3 (baseline) and Algorithm 1 re-weighted |G| = 2, 3 (A_mu, "
             "A_sigma, B, C), weighted (3/4, 1/4)"),
        _exp("classify_synthetic", "§4.1: the real-data filter net's accuracy on raw / psi = 1.5 samples"),
    ]  # fmt: skip
    return {e.name: e for e in exps}


# the classifier side; ganlab.multigan_boosting.experiments adds the GAN side (gan_repro)
CLASSIFIER_EXPERIMENTS: dict[str, Experiment] = _experiments()
