"""Reproductions of the GOLD paper's tables and figures (``ganlab gold repro EXP --scale smoke|mini|paper``).

Every experiment is one YAML file under ``configs/``: ``experiment`` (the protocol) and ``run`` (a core training
config with ``method.name: gold``), plus ``scales:`` deltas. Kinds:

- ``reweight`` (Tables 1, 2, 6; Figures 1, 2): the baseline (loss (1)) and GOLD re-weighting (loss (5)) per seed
  (and per label fraction); the GOLD run starts from the baseline's checkpoint at the re-weighting epoch (the two
  runs are the same until then); fitting capacity of each final G on the real test set.
- ``rejection`` (Tables 3, 4, 5, 7): one baseline G per seed, then a fixed bank of 50,000 samples drawn at random or
  by GOLD rejection (one per p); fitting capacity (and FID) of each bank.
- ``active`` (Figures 3, 4): active learning with GOLD and random queries per trial.
- ``unstable`` (Figure 6): 10 labelled samples, no unlabelled data; FID every ``fid_every`` epochs.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ganlab.core.config import from_dict, load_config
from ganlab.core.errors import ConfigError
from ganlab.core.repro import Experiment
from ganlab.core.results import RunDir
from ganlab.core.train.config import ExperimentConfig
from ganlab.gold.active import ActiveConfig
from ganlab.gold.options import GoldOptions

CONFIGS = Path(__file__).parent / "configs"
KINDS = ("reweight", "rejection", "active", "unstable")


@dataclass
class ProtocolConfig:
    """What an experiment trains and measures."""

    kind: Literal["reweight", "rejection", "active", "unstable"] = "reweight"
    variants: list[str] = field(default_factory=lambda: ["baseline", "gold"])
    seeds: list[int] = field(default_factory=lambda: [1])
    label_fractions: list[float] = field(default_factory=list)  # Table 2 (empty: the run's own labels)
    ps: list[float] = field(default_factory=lambda: [0.1])  # rejection: p of each GOLD bank
    # rejection statistics: "official" (drs.py: M = exp(max logit), sigma_C = RMS) or "paper" (M = max exp(d_bal),
    # sigma_C = std, §3.2)
    rejection_stats: str = "official"
    n_bank: int = 50000
    n_stats: int = 50000
    rejection_batch: int = 100
    max_batches_per_class: int = 10000
    fid: bool = False  # Table 5 / Figure 6: FID against every real training image
    # the FID feature network: "inception" (the paper's, Appendix B; core's registered extractor; any registered name
    # works) or "lenet_indomain" (a LeNet-32 trained on the real training images, 84-d: the smoke and mini scales)
    fid_extractor: str = "inception"
    fid_extractor_options: dict[str, Any] = field(default_factory=dict)  # e.g. weights_path for inception
    fid_n: int = 10000  # generated samples for the FID of a G (a rejection bank is scored whole)
    fid_every: int = 100  # epochs (Figure 6)
    fid_classifier: dict[str, Any] = field(default_factory=dict)  # training overrides of the FID LeNet
    capacity: dict[str, Any] = field(default_factory=dict)  # fitting-capacity protocol overrides
    share_first_half: bool = True
    # train (or resume) the runs here instead of <run dir>/runs: reuse another experiment's finished runs of the same
    # config (e.g. Table 3's baselines from Figure 1's)
    runs_dir: str | None = None
    figures: list[str] = field(default_factory=list)
    figure_samples: int = 2000
    active: ActiveConfig = field(default_factory=ActiveConfig)

    def validate(self) -> None:
        allowed = {
            "reweight": {"baseline", "gold"},
            "unstable": {"baseline", "gold"},
            "rejection": {"random", "gold"},
            "active": {"gold", "gold_balanced", "random"},
        }[self.kind]
        bad = sorted(set(self.variants) - allowed)
        if bad or not self.variants:
            raise ConfigError(
                f"experiment.variants {bad or '[]'} do not fit kind {self.kind!r}; choose {sorted(allowed)}"
            )
        if not self.seeds:
            raise ConfigError("experiment.seeds must list at least one seed")
        from ganlab.gold.rejection import check_percentile

        for p in self.ps:
            check_percentile(p)
        if self.rejection_stats not in ("official", "paper"):
            raise ConfigError(f"experiment.rejection_stats must be 'official' or 'paper', got {self.rejection_stats!r}")


@dataclass
class ReproConfig:
    experiment: ProtocolConfig = field(default_factory=ProtocolConfig)
    run: ExperimentConfig = field(default_factory=ExperimentConfig)


def load_repro_config(path: str | Path, scale: str | None = None, overrides: Sequence[str] = ()) -> ReproConfig:
    cfg = load_config(ReproConfig, path, overrides, scale)
    if cfg.run.method.name != "gold":
        raise ConfigError(f"run.method.name must be 'gold' in a GOLD reproduction, not {cfg.run.method.name!r}")
    from_dict(GoldOptions, dict(cfg.run.method.options), where="run.method.options")  # validate early
    return cfg


def gold_options(ecfg: ExperimentConfig) -> GoldOptions:
    return from_dict(GoldOptions, dict(ecfg.method.options), where="method.options")


# ------------------------------------------------------------------------------------------------- training
def run_config(cfg: ReproConfig, variant: str, seed: int, out: Path, **options: Any) -> ExperimentConfig:
    """The training config of one run (``baseline``: no re-weighting; ``gold``: re-weighting)."""
    ecfg = copy.deepcopy(cfg.run)
    ecfg.seed = int(seed)
    tag = "_".join([variant, f"seed{seed}", *[f"{k}{v:g}" for k, v in options.items() if isinstance(v, float)]])
    ecfg.name, ecfg.out_dir = tag, str(out)
    ecfg.method.options = {**ecfg.method.options, **options, "reweight": variant == "gold"}
    return ecfg


def train(ecfg: ExperimentConfig, *, dataset: Any = None, init_from: Path | None = None, keep_at: int | None = None):
    """Train one gold run (``train.steps`` resolved from ``epochs``); with ``keep_at`` also keep a copy of its
    checkpoint at that step. Returns ``(trainer, kept checkpoint or None)``."""
    from ganlab.core.train.trainer import Trainer
    from ganlab.gold.method import resolve_steps

    ecfg.train.steps = resolve_steps(ecfg, dataset)
    trainer = Trainer(ecfg, run_dir=Path(ecfg.out_dir) / ecfg.name, dataset=dataset, init_from=init_from, resume="auto")
    kept = None
    if keep_at is not None and 0 < keep_at < ecfg.train.steps:
        kept = trainer.run_dir.path / f"keep_step{keep_at}.pt"
        if not kept.is_file():
            trainer.fit(stop_at=keep_at)
            shutil.copyfile(trainer._last_ckpt, kept)
    trainer.fit()
    return trainer, kept


def _dataset(ecfg: ExperimentConfig):
    from ganlab.core.data import get_dataset

    d = ecfg.data
    return get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)


def _curve(trainer, key: str) -> list[tuple[float, float]]:
    spe = trainer.method.steps_per_epoch
    return [(r["step"] / spe, r[key]) for r in trainer.run_dir.read_metrics() if key in r and "step" in r]


# --------------------------------------------------------------------------------------------- the runners
def run_reweight(cfg: ReproConfig, run_dir: RunDir, unstable: bool = False) -> list[dict[str, Any]]:
    from ganlab.gold.evaluation import test_set

    p = cfg.experiment
    out = _runs_dir(cfg, run_dir)
    ds = _dataset(cfg.run)
    opts = gold_options(cfg.run)
    test = test_set(cfg.run, ds, opts)
    fid = _fid(cfg, ds, run_dir) if (p.fid or unstable) else None
    records: list[dict[str, Any]] = []
    curves: dict[str, dict[str, list]] = {"gold": {}, "capacity": {}, "fid": {}}
    fractions: list[float | None] = list(p.label_fractions) or [None]
    last = {}
    for frac in fractions:
        extra = {} if frac is None else {"label_fraction": float(frac)}
        for seed in p.seeds:
            base_cfg = run_config(cfg, "baseline", seed, out, **extra)
            trainers: dict[str, Any] = {}
            kept = None
            for variant in sorted(p.variants, key=lambda v: v != "baseline"):
                ecfg = run_config(cfg, variant, seed, out, **extra)
                if unstable:
                    trainers[variant] = _train_with_fid(ecfg, ds, fid, p, cfg, curves, variant, seed)
                    continue
                if variant == "baseline":
                    start = _start_step(base_cfg, ds) if (p.share_first_half and "gold" in p.variants) else None
                    trainers[variant], kept = train(ecfg, dataset=ds, keep_at=start)
                else:
                    trainers[variant], _ = train(ecfg, dataset=ds, init_from=kept if p.share_first_half else None)
            for variant, tr in trainers.items():
                rec: dict[str, Any] = {"variant": variant, "seed": seed}
                if frac is not None:
                    rec["label_fraction"] = frac
                cap = _final_capacity(tr, test, seed, p, opts)
                rec.update(
                    fitting_capacity=cap["cap_test"], n_test=cap["n_test"], epochs=tr.step / tr.method.steps_per_epoch
                )
                if fid is not None:
                    rec.update(fid.of_generator(tr.G_ema, p.fid_n, tr.num_classes, seed, tr.device))
                rec["protocol"] = f"LeNet-32 fitting capacity ({cap['protocol']['epochs']} ep x "
                rec["protocol"] += f"{cap['protocol']['samples_per_epoch']}), real test {cap['n_test']}"
                records.append(rec)
                run_dir.log_metrics({"event": "result", **rec})
                curves["gold"].setdefault(variant, []).append(_gold_curve(tr, trainers.get("baseline")))
                curves["capacity"].setdefault(variant, []).append(_capacity_curve(tr, trainers.get("baseline")))
            last = trainers
    _figures(cfg, run_dir, last, curves, ds)
    return records


def _runs_dir(cfg: ReproConfig, run_dir: RunDir) -> Path:
    return Path(cfg.experiment.runs_dir) if cfg.experiment.runs_dir else run_dir.path / "runs"


def _final_capacity(tr, test, seed: int, p: ProtocolConfig, opts: GoldOptions) -> dict[str, Any]:
    """The final fitting capacity; reuses the run's own evaluation at its last step under the same protocol."""
    import dataclasses

    from ganlab.core.features.classifier import get_protocol
    from ganlab.gold.evaluation import final_capacity

    h = tr.method.history
    if h and h[-1]["step"] == tr.step and "cap_test" in h[-1] and dict(opts.capacity) == dict(p.capacity):
        proto = dataclasses.asdict(get_protocol("gold", **p.capacity))
        return {"cap_test": h[-1]["cap_test"], "n_test": h[-1]["n_test"], "protocol": proto}
    return final_capacity(tr.G_ema, test, num_classes=tr.num_classes, seed=seed, device=tr.device, **p.capacity)


def _capacity_curve(tr, baseline) -> list[tuple[float, float]]:
    own = [(h["epoch"], h["cap_test"]) for h in tr.method.history if "cap_test" in h]
    if baseline is None or baseline is tr:
        return own
    first = own[0][0] if own else float("inf")
    before = [(h["epoch"], h["cap_test"]) for h in baseline.method.history if "cap_test" in h and h["epoch"] < first]
    return before + own


def _start_step(ecfg: ExperimentConfig, ds: Any) -> int:
    from ganlab.gold.method import make_split, stream_indices
    from ganlab.gold.split import epoch_layout

    o = gold_options(ecfg)
    split, _ = make_split(ds, o, ecfg.seed if o.split_seed is None else o.split_seed)
    spe = epoch_layout(stream_indices(split, o).size, ecfg.train.batch_size, o.per_epoch).steps
    start = o.start_epoch if o.start_epoch is not None else (o.epochs or 0) // 2
    return start * spe


def _gold_curve(tr, baseline) -> list[tuple[float, float]]:
    own = _curve(tr, "gold_mean")
    if baseline is None or baseline is tr or not own:
        return own
    first = own[0][0]
    return [pt for pt in _curve(baseline, "gold_mean") if pt[0] < first] + own


def _fid(cfg: ReproConfig, ds: Any, run_dir: RunDir):
    from ganlab.gold.evaluation import build_fid

    p = cfg.experiment
    b = ds.get_batch(np.arange(len(ds)))
    return build_fid(
        p.fid_extractor,
        b["image"],
        b["label"].numpy(),
        ds.num_classes,
        cache_dir=run_dir.path,
        classifier=p.fid_classifier,
        options=p.fid_extractor_options,
    )


def _train_with_fid(ecfg, ds, fid, p: ProtocolConfig, cfg, curves, variant, seed):
    """Figure 6: train in chunks of ``fid_every`` epochs and measure FID between them."""
    from ganlab.core.train.trainer import Trainer
    from ganlab.gold.method import resolve_steps

    ecfg.train.steps = resolve_steps(ecfg, ds)
    tr = Trainer(ecfg, run_dir=Path(ecfg.out_dir) / ecfg.name, dataset=ds, resume="auto")
    spe = tr.method.steps_per_epoch
    pts = []
    while tr.step < ecfg.train.steps:
        tr.fit(stop_at=min(tr.step + p.fid_every * spe, ecfg.train.steps))
        pts.append((tr.step / spe, fid.of_generator(tr.G_ema, p.fid_n, tr.num_classes, seed, tr.device)["fid"]))
        tr.run_dir.log_metrics({"event": "fid", "epoch": tr.step / spe, "fid": pts[-1][1]})
    curves["fid"].setdefault(variant, []).append(pts)
    return tr


def _figures(cfg: ReproConfig, run_dir: RunDir, trainers: dict[str, Any], curves: dict, ds: Any) -> None:
    from ganlab.gold import figures
    from ganlab.gold.scoring import score_generated, score_real

    p = cfg.experiment
    tr = trainers.get("baseline") or next(iter(trainers.values()), None)
    if tr is None:
        return
    G, D = tr.G_ema, tr.unwrap(tr.D)
    if "figure1" in p.figures:
        s = score_generated(G, D, p.figure_samples, seed=0, device=tr.device)
        figures.figure1(
            run_dir.path / "figure1.png", s["marginal"], s["conditional"], curves["gold"], curves["capacity"]
        )
    if "figure2" in p.figures and len(ds.shape) == 3:
        s = score_generated(G, D, p.figure_samples, seed=0, device=tr.device, keep_images=True)
        n_real = min(len(ds), p.figure_samples)
        b = ds.get_batch(np.arange(n_real))
        r = score_real(D, b["image"], b["label"], device=tr.device)
        k = 8
        panels = {
            "generated: marginal": figures.top_sheet(s["images"], s["marginal"], s["labels"], k),
            "generated: conditional": figures.top_sheet(s["images"], s["conditional"], s["labels"], k),
            "generated: GOLD": figures.top_sheet(s["images"], s["gold"], s["labels"], k),
            "real: marginal": figures.top_sheet(b["image"], r["marginal"], None, k),
            "real: conditional": figures.top_sheet(b["image"], -r["conditional"], None, k),
            "real: GOLD": figures.top_sheet(b["image"], r["gold_real"], None, k),
        }
        figures.figure2(run_dir.path / "figure2.png", panels, nrow=k)
    if "figure6" in p.figures:
        figures.figure6(run_dir.path / "figure6.png", curves["fid"])


def run_rejection(cfg: ReproConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    from ganlab.gold.evaluation import final_capacity, test_set
    from ganlab.gold.rejection import gold_rejection_sample, rejection_stats, save_bank

    p = cfg.experiment
    ds = _dataset(cfg.run)
    test = test_set(cfg.run, ds, gold_options(cfg.run))
    fid = _fid(cfg, ds, run_dir) if p.fid else None
    records = []
    for seed in p.seeds:
        tr, _ = train(run_config(cfg, "baseline", seed, _runs_dir(cfg, run_dir)), dataset=ds)
        G, D = tr.G_ema, tr.unwrap(tr.D)
        stats = rejection_stats(
            G, D, p.n_stats, batch_size=p.rejection_batch, seed=seed + 1, device=tr.device, mode=p.rejection_stats
        )
        banks = [("random", None)] if "random" in p.variants else []
        banks += [(f"gold_p{q:g}", q) for q in p.ps] if "gold" in p.variants else []
        for name, q in banks:
            res = gold_rejection_sample(
                G,
                D,
                p.n_bank,
                p=q if q is not None else 0.5,
                reject=q is not None,
                stats=stats,
                batch_size=p.rejection_batch,
                max_batches_per_class=p.max_batches_per_class,
                seed=seed,
                device=tr.device,
            )
            save_bank(res, run_dir.path / f"bank_{name}_seed{seed}.npz", run_dir.path / f"bank_{name}_seed{seed}.png")
            cap = final_capacity(
                G,
                test,
                num_classes=tr.num_classes,
                seed=seed,
                device=tr.device,
                bank=(res.images, res.labels),
                **p.capacity,
            )
            rec = {"variant": name, "seed": seed, "p": q, "fitting_capacity": cap["cap_test"], "n_test": cap["n_test"]}
            rec["rejection_stats"] = p.rejection_stats
            keep = ("acceptance_rate", "accepted_per_s", "n")
            rec.update({k: v for k, v in res.summary().items() if k in keep})
            if q is not None:  # M and the sigma ratio of eq. 6 the bank was drawn with
                rec.update(stats_log_m=stats["log_m"], stats_ratio=stats["ratio"])
            if fid is not None:
                rec.update(fid(res.images.to(tr.device) if res.images.ndim == 4 else res.images, tr.device))
            rec["protocol"] = f"fixed bank of {res.summary()['n']}, LeNet-32 {cap['protocol']['epochs']} epochs"
            if fid is not None:
                rec["protocol"] += f"; FID on {fid.name} features"
            records.append(rec)
            run_dir.log_metrics({"event": "result", **rec})
    return records


def run_active(cfg: ReproConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    from ganlab.gold import figures
    from ganlab.gold.active import run_active_learning

    p = cfg.experiment
    ds = _dataset(cfg.run)
    records = []
    series: dict[str, list] = {}
    snaps = None
    for seed in p.seeds:
        for query in p.variants:
            ecfg = copy.deepcopy(cfg.run)
            ecfg.seed = int(seed)
            active = copy.deepcopy(p.active)
            active.query = query
            out = run_dir.path / "runs" / f"{query}_seed{seed}"
            rounds = run_active_learning(ecfg, active, out, dataset=ds)
            for r in rounds:
                rec = {
                    "variant": query,
                    "seed": seed,
                    **{k: r[k] for k in ("round", "n_labelled", "cap_test", "cap_val")},
                }
                records.append(rec)
                run_dir.log_metrics({"event": "result", **rec})
            series.setdefault(query, []).append([(r["n_labelled"], r["cap_test"]) for r in rounds])
            if snaps is None and "figure3" in p.figures and query.startswith("gold"):
                snaps = _load_snapshots(out, rounds, ds)
    if "figure4" in p.figures:
        figures.figure4(run_dir.path / "figure4.png", {cfg.run.data.name: series})
    if snaps:
        b = ds.get_batch(np.arange(len(ds)))
        figures.figure3(run_dir.path / "figure3.png", snaps, b["image"].numpy(), ds.labels)
    return records


def _load_snapshots(out: Path, rounds: list[dict[str, Any]], ds: Any) -> list[dict[str, Any]] | None:
    snaps = []
    for r in rounds:
        path = out / f"round_{r['round']:02d}" / "snapshot.npz"
        if not path.is_file() or len(ds.shape) != 1:
            return None
        with np.load(path) as f:
            s = {k: f[k] for k in f.files}
        q = r.get("queried")
        s["queried"] = None if q is None else ds.get_batch(np.asarray(q))["image"].numpy()
        snaps.append(s)
    return snaps


def run_protocol(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    """Run an experiment; per-seed rows, then mean +- std rows over seeds."""
    from ganlab.core.config import save_config

    cfg = load_repro_config(config, scale, overrides)
    save_config(cfg, run_dir.path / "repro_config.yaml")
    kind = cfg.experiment.kind
    if kind == "reweight":
        records = run_reweight(cfg, run_dir)
    elif kind == "unstable":
        records = run_reweight(cfg, run_dir, unstable=True)
    elif kind == "rejection":
        records = run_rejection(cfg, run_dir)
    else:
        records = run_active(cfg, run_dir)
    keys = ("variant", "label_fraction", "round", "n_labelled")
    return records + aggregate(records, keys) if len(cfg.experiment.seeds) > 1 else records


def aggregate(records: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Mean and std (ddof = 1) over seeds of every numeric column, per group of ``keys`` present in the rows."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    out = []
    for key, rows in groups.items():
        agg: dict[str, Any] = {k: v for k, v in zip(keys, key) if v is not None}
        agg["seed"] = f"mean of {len(rows)}"
        for c in rows[0]:
            if c in (*keys, "seed") or not isinstance(rows[0][c], (int, float)) or isinstance(rows[0][c], bool):
                continue
            vals = np.array([r[c] for r in rows if isinstance(r.get(c), (int, float))], dtype=np.float64)
            agg[c] = float(np.nanmean(vals))
            agg[f"{c}_std"] = float(np.nanstd(vals, ddof=1)) if len(vals) > 1 else 0.0
        out.append(agg)
    return out


# ---------------------------------------------------------------------------------------------- the registry


def _exp(name: str, description: str, status: dict[str, str] | None = None) -> Experiment:
    return Experiment(
        name=name,
        paper="gold",
        description=description,
        config=CONFIGS / f"{name}.yaml",
        run=run_protocol,
        status=status or {},
    )


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        _exp("table1_mnist", "re-weighting, full labels, MNIST: fitting capacity (Table 1)"),
        _exp("table1_fmnist", "re-weighting, full labels, Fashion-MNIST (Table 1)"),
        _exp("table1_svhn", "re-weighting, full labels, SVHN (Table 1)"),
        _exp("table1_cifar10", "re-weighting, full labels, CIFAR-10 (Table 1)"),
        _exp("table1_stl10", "re-weighting, full labels, STL-10 (Table 1)"),
        _exp("table1_lsun", "re-weighting, full labels, LSUN (Table 1)"),
        _exp("table2_svhn", "re-weighting under 1-100 % supervision, SVHN (Table 2)"),
        _exp("table2_cifar10", "re-weighting under 1-100 % supervision, CIFAR-10 (Table 2)"),
        _exp("table3_mnist", "rejection sampling p=0.1 vs none, MNIST: fitting capacity, FID (Tables 3, 5)"),
        _exp("table3_fmnist", "rejection sampling p=0.1 vs none, Fashion-MNIST (Tables 3, 5)"),
        _exp("table3_svhn", "rejection sampling p=0.5 vs none, SVHN (Tables 3, 5)"),
        _exp("table3_cifar10", "rejection sampling p=0.5 vs none, CIFAR-10 (Tables 3, 5)"),
        _exp("table3_stl10", "rejection sampling p=0.5 vs none, STL-10 (Tables 3, 5)"),
        _exp("table3_lsun", "rejection sampling p=0.5 vs none, LSUN (Tables 3, 5)"),
        _exp("table4_cifar10", "rejection sampling, p sweep 0.1-0.9, CIFAR-10 (Table 4)"),
        _exp("table6_imagenette", "re-weighting, Imagenette 128 (Table 6)"),
        _exp("table6_imagewoof", "re-weighting, Imagewoof 128 (Table 6)"),
        _exp("table7_imagenette", "rejection sampling, Imagenette 128 (Table 7)"),
        _exp("table7_imagewoof", "rejection sampling, Imagewoof 128 (Table 7)"),
        _exp("figure1", "MNIST: term histograms, GOLD mean and fitting capacity during training (Figure 1)"),
        _exp("figure2", "MNIST: generated and real samples with top marginal / conditional / GOLD (Figure 2)"),
        _exp("figure3", "synthetic 6 clusters, active learning (4, 1, 8): queries, samples, GOLD field (Fig. 3, 4)"),
        _exp("figure4_mnist", "active learning (10, 2, 18), MNIST: GOLD vs random (Figure 4)"),
        _exp("figure4_fmnist", "active learning (20, 5, 40), Fashion-MNIST: GOLD vs random (Figure 4)"),
        _exp("figure4_svhn", "active learning (20, 20, 100), SVHN: GOLD vs random (Figure 4)"),
        _exp("figure6", "MNIST, 10 labels, no unlabelled data: FID during training (Figure 6)"),
    ]
}
