"""Reproductions of the Instance Selection paper (``ganlab repro run instance-selection/EXP --scale smoke|mini|paper``).

Every experiment is one YAML file under ``configs/``: ``protocol`` (core's evaluation protocol,
:class:`ganlab.core.evaluation.protocol.EvalProtocol`; ``ganlab repro show instance-selection/EXP`` says it in words),
the ``arms``, ``seeds`` and selection settings, and ``run`` (a core training config shared by all arms).
``scales:`` holds the per-scale deltas, so smoke, mini and paper run the same code. Four kinds:

- ``train`` (Tables 1-3, Figures 3 and 5, the mini experiment), through :mod:`ganlab.core.repro_harness`: each arm
  selects a subset (``none``, ``uniform`` or a scorer at a retention ratio, in an embedding), trains on it with the
  core trainer, and is evaluated against the FULL dataset (IS, FID, P/R/D/C), optionally at several truncations;
- ``density_vs_fid`` (Figure 2) and ``manifold`` (Figure 12): :mod:`ganlab.instance_selection.maps`;
- ``toy2d``: 2-D points, :mod:`ganlab.instance_selection.toy`.

An embedding or extractor named ``classifier:auto`` is an in-domain classifier trained on the dataset first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

from ganlab.core.config import read_yaml, select_scale
from ganlab.core.errors import ConfigError
from ganlab.core.repro import Experiment, experiments, protocol_from_config
from ganlab.core.repro_harness import Arm, Harness, Hooks, ReproSpec, aggregate, load_spec
from ganlab.core.results import RunDir
from ganlab.core.train.config import ExperimentConfig
from ganlab.instance_selection.arms import arm_run_config
from ganlab.instance_selection.context import Context
from ganlab.instance_selection.figures import metric_figure
from ganlab.instance_selection.methods import InstanceSelection
from ganlab.instance_selection.toy import run_toy2d

__all__ = ["CONFIGS", "EXPERIMENTS", "ISArm", "ISExperiment", "arm_run_config", "load", "summarize", "summarize_run"]

CONFIGS = Path(__file__).parent / "configs"
METRICS = ("is", "fid", "precision", "recall", "density", "coverage")


@dataclass
class ISArm(Arm):
    """One training set: ``none`` (the full data), ``uniform`` or a scorer, at ``retention_ratio`` percent."""

    scorer: str = "none"
    retention_ratio: float = 100.0
    embedding: str | None = None  # default: selection.embedding
    embedding_options: dict[str, Any] | None = None
    per_class: bool | None = None

    def columns(self) -> dict[str, Any]:
        return {"scorer": self.scorer, "retention_ratio": self.retention_ratio}

    def validate(self) -> None:
        super().validate()
        if self.scorer == "none" and self.retention_ratio != 100.0:
            raise ConfigError(f"arm {self.name!r}: scorer none trains on the full data; set retention_ratio: 100")


@dataclass
class ClassifierSpec:
    """The in-domain classifier behind ``classifier:auto`` (trained on the full dataset, fixed seed)."""

    arch: str = "lenet"
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0


@dataclass
class ISExperiment(ReproSpec):
    kind: Literal["train", "density_vs_fid", "manifold", "toy2d"] = "train"
    arms: list[ISArm] = field(default_factory=lambda: [ISArm("none"), ISArm("gaussian", scorer="gaussian")])
    selection: dict[str, Any] = field(default_factory=dict)  # SelectionConfig defaults shared by the arms
    classifier: ClassifierSpec = field(default_factory=ClassifierSpec)
    truncation: list[float] = field(default_factory=lambda: [1.0])  # Figure 5 sweeps 1.0 -> 0.1
    truncation_mode: Literal["scale", "resample"] = "scale"
    correlations: bool = False  # Spearman correlation between the Gaussian, PPCA and KNN scores
    figure: str | None = None  # "retention" (Figure 3) or "truncation" (Figure 5)
    # density_vs_fid (Figure 2)
    generator: str | None = None  # a class-conditional G exported by ganlab (G_ema.pt); None: train a stand-in
    samples_per_class: int = 700
    max_classes: int | None = None
    scorers: list[str] = field(default_factory=lambda: ["gaussian", "ppca", "knn"])
    # manifold (Figure 12)
    manifold_class: int = 0
    projection: Literal["umap", "pca"] = "umap"
    manifold_samples: int = 500


def load(config: str | Path, scale: str, overrides: Sequence[str] = ()) -> tuple[ISExperiment, ExperimentConfig]:
    """The experiment and its shared training config (validated: unknown keys fail here, before any work)."""
    from ganlab.core.config import from_dict

    cfg = load_spec(config, scale, overrides, schema=ISExperiment)
    return cfg, from_dict(ExperimentConfig, dict(cfg.run), where="run")


class ISHooks(Hooks):
    """Instance selection's steps in the core harness: the full dataset, each arm's subset and method, the
    evaluation at each truncation, the paper's summary table and figures."""

    def __init__(self, cfg: ISExperiment, run_cfg: ExperimentConfig, run_dir: RunDir) -> None:
        self.cfg = cfg
        self.ctx = Context(cfg, run_cfg, run_dir)
        self.selections: dict[str, Any] = {}

    def dataset(self, h: Harness) -> Any:
        return self.ctx.dataset

    def setup(self, h: Harness) -> None:
        if self.cfg.kind in ("train", "manifold"):
            self.selections = {arm.name: self.ctx.selection(arm) for arm in self.cfg.arms}

    def configure(self, h: Harness, arm: ISArm, seed: int, cfg: ExperimentConfig) -> Any:
        if cfg.eval.every:  # the official --test_every N --which_best FID, on the resolved evaluation network
            cfg.eval.extractor = self.ctx.resolve(cfg.eval.extractor)
        selection = self.selections.get(arm.name)
        if selection is None:
            return None
        index_file = selection.save(h.run_dir.path / "indices" / f"{arm.name}.npz")
        cfg.method.name = "instance_selection"  # recorded so that the saved config re-runs the same subset
        cfg.method.options = {"index_file": str(index_file)}
        return InstanceSelection(selection=selection)

    def evaluate(self, h: Harness, arm: ISArm, seed: int, G: Any, trainer: Any) -> list[dict[str, Any]]:
        sel = self.selections.get(arm.name)
        kept = len(sel) if sel is not None else len(self.ctx.dataset)
        return [
            {"kept": kept, "truncation": psi, **self.ctx.evaluate(trainer, seed, psi, G)} for psi in self.cfg.truncation
        ]

    def finish(self, h: Harness, per_seed: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        records = summarize(per_seed)
        if self.cfg.correlations:
            from ganlab.instance_selection.maps import scorer_correlations

            records.extend(scorer_correlations(self.ctx))
        if self.cfg.figure:
            metric_figure(self.cfg.figure, records, METRICS, h.run_dir.path)
        return records


def summarize(per_seed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation over seeds of every (arm, checkpoint, truncation), with the protocol columns;
    works on a partial run's records too."""
    head = ["arm", "scorer", "retention_ratio", "kept"]
    head += [k for k in ("checkpoint", "truncation") if len({r.get(k) for r in per_seed}) > 1]
    head += list(dict.fromkeys(k for r in per_seed for k in r if k.startswith("eval_")))
    metrics = [m for m in METRICS if all(m in r for r in per_seed)]
    return aggregate(per_seed, ("arm", "checkpoint", "truncation"), metrics, columns=head)


def summarize_run(run_dir: str | Path) -> list[dict[str, Any]]:
    """:func:`summarize` of the ``arm_result`` events logged so far in a run directory's ``metrics.jsonl``."""
    rows = [r for r in RunDir(run_dir, create=False).read_metrics() if r.get("event") == "arm_result"]
    return summarize([{k: v for k, v in r.items() if k != "event"} for r in rows])


def run(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    cfg, run_cfg = load(config, scale, overrides)
    run_dir.save_config(cfg)
    if cfg.kind == "toy2d":  # 2-D points: evaluated on the points themselves, no evaluation network
        toy = SimpleNamespace(
            seeds=cfg.seeds, arms=cfg.arms, selection=cfg.selection, n_fake=cfg.protocol.n_fake, k=cfg.protocol.prdc.k
        )
        return run_toy2d(toy, run_cfg, run_dir)
    hooks = ISHooks(cfg, run_cfg, run_dir)
    h = Harness(cfg, run_dir, hooks, group_by=("arm", "checkpoint", "truncation"))
    if cfg.kind == "train":
        return h.run()
    from ganlab.instance_selection.maps import run_density_vs_fid, run_manifold

    h.prepare()
    if cfg.kind == "density_vs_fid":
        return run_density_vs_fid(h, hooks.ctx, ISArm("standin_generator"))
    return run_manifold(h, hooks.ctx, hooks.selections)


# ------------------------------------------------------------------------------------------------- protocols
def _words(config: Path) -> Any:
    """The protocol in words for the kinds that evaluate outside the arms x seeds table."""
    table = protocol_from_config(config)

    def words(scale: str) -> Any:
        cfg = select_scale(read_yaml(config), scale)
        p = table(scale)
        kind = cfg.get("kind", "train")
        if kind == "density_vs_fid":
            n = cfg.get("samples_per_class", 700)
            return (
                f"Per class, {n} real images drawn at random (seed {cfg.get('seeds', [0])[0]}) against {n} samples of "
                f"that class, on {p.describe_network()}: FID per class against manifold density. "
                f"The generator is the one given (key generator) or a stand-in trained here, its last step."
            )
        if kind == "manifold":
            return (
                f"One class's real images, the kept ones and {cfg.get('manifold_samples', 500)} samples of each arm's "
                f"last generator, on {p.describe_network()}, in one 2-D map; P/R/D/C with k = {p.prdc.k}."
            )
        if kind == "toy2d":
            return (
                f"{p.n_fake} generated 2-D points against the training points themselves (no evaluation network): "
                f"FID and P/R/D/C with k = {p.prdc.k}; the last generator is evaluated."
            )
        return p

    return words


_TABLE = [
    ("table1", "Table 1: embeddings x scoring functions at 50% retention (SAGAN 64x64)"),
    ("table3", "Table 3 + Figure 3: retention ratio sweep 100..10% (SAGAN 64x64, 500k iterations)"),
    ("table2", "Table 2: BigGAN 128x128 ch64, full data vs 50% instance selection", {"scales": ("smoke", "paper")}),
    ("figure2", "Figure 2: per-class manifold density vs per-class FID of a conditional generator"),
    ("figure5", "Figure 5: truncation sweep 1.0 -> 0.1 with and without instance selection"),
    ("figure12", "Figure 12: one class's data manifold, kept data and GAN samples in one 2-D map"),
    ("mini", "MNIST (5k): full vs uniform 50% vs Gaussian/PPCA/KNN 50%, in-domain features, 3 seeds"),
    (
        "mini_toy2d",
        "2-D ring of 8 modes + low-density halo: full vs uniform 50% vs Gaussian 50%, 3 seeds",
        {"scales": ("smoke", "mini")},
    ),
]
EXPERIMENTS: dict[str, Experiment] = experiments("instance_selection", CONFIGS, run, _TABLE, protocol=_words)
