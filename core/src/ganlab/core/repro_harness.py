"""One reproduction harness: arms x seeds -> train -> the protocol's checkpoint -> sample -> evaluate -> mean ± std.

A package's ``repro.py`` declares its experiments as data (a YAML file with ``protocol`` (an
:class:`~ganlab.core.evaluation.protocol.EvalProtocol`), ``arms``, ``seeds`` and ``run``, the core training config the
arms share) and adds its own steps through :class:`Hooks` (a method per arm, another evaluation, figures). The
harness trains every (arm, seed) with the ordinary :class:`~ganlab.core.train.trainer.Trainer`, picks the checkpoint
the protocol names (``last``, or ``best`` by a metric evaluated every N steps, optionally stopping after ``patience``
evaluations without improvement), evaluates it with :func:`ganlab.core.metrics.evaluate.evaluate` as the protocol
says, and writes ``per_seed.csv``, the aggregate ``results.json/csv`` + ``summary.md`` and one bar figure per metric.

It resumes per (arm, seed): a finished pair's records live in ``records/<arm>_seed<seed>.json`` and are read back,
not retrained (refused when the spec, the arm or its training config changed since); an interrupted training resumes
from its last checkpoint. A failing pair does not stop the others:
their results are written, then one :class:`ReproError` names every failed (arm, seed).
"""

from __future__ import annotations

import copy
import hashlib
import json
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.config import deep_merge, from_dict, load_config, to_dict
from ganlab.core.errors import ConfigError, GanlabError
from ganlab.core.evaluation.protocol import SELECTABLE, EvalProtocol
from ganlab.core.evaluation.selection import patience_exhausted
from ganlab.core.results import RunDir, atomic_write_text, records_to_csv

__all__ = ["Arm", "Harness", "Hooks", "ReproError", "ReproSpec", "aggregate", "evaluate_generator", "load_spec"]

# columns of a per-seed record that are not aggregated
KEYS = ("arm", "seed", "checkpoint", "step", "n_real", "n_fake")


class ReproError(GanlabError):
    """Some (arm, seed) pairs of a reproduction failed; the others' results were written."""


@dataclass
class Arm:
    """One trained configuration: ``run`` holds its deltas to the shared training config; ``info`` columns are
    copied into each of its records (e.g. a retention ratio)."""

    name: str
    run: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """The columns every record of this arm starts with (after ``arm``)."""
        return dict(self.info)

    def validate(self) -> None:
        if not self.name or "/" in self.name:
            raise ValueError(f"arm name {self.name!r} must be a non-empty name without '/'")


@dataclass
class ReproSpec:
    """An experiment as data: the evaluation protocol, the arms, the seeds and the shared training config."""

    protocol: EvalProtocol = field(default_factory=EvalProtocol)
    arms: list[Arm] = field(default_factory=lambda: [Arm("baseline")])
    seeds: list[int] = field(default_factory=lambda: [0])
    run: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"arm names must be unique and at least one, got {names}")
        if len(set(self.seeds)) != len(self.seeds) or not self.seeds:
            raise ValueError(f"seeds must be unique and at least one, got {self.seeds}")


def load_spec(
    path: str | Path, scale: str | None = None, overrides: Sequence[str] = (), schema: type = ReproSpec
) -> Any:
    """An experiment's spec (``schema``: :class:`ReproSpec` or a package's subclass of it); every arm's training
    config is checked here, before any work."""
    from ganlab.core.train.config import ExperimentConfig

    spec = load_config(schema, path, overrides, scale)
    for arm in spec.arms:
        from_dict(ExperimentConfig, deep_merge(spec.run, arm.run), where=f"arm {arm.name}: run")
    return spec


class Hooks:
    """A package's own steps; every default does the ordinary thing. ``h`` is the running :class:`Harness`."""

    scores_checkpoints = False  # True: checkpoint_score gives the checkpoint rule's metric, not the trainer's eval

    def dataset(self, h: Harness) -> Any:
        """The training (and reference) dataset; None: the one the training config names."""
        return None

    def setup(self, h: Harness) -> None:
        """Once, after the dataset exists (e.g. embeddings or subsets shared by the arms)."""

    def configure(self, h: Harness, arm: Arm, seed: int, cfg: Any) -> Any:
        """The method to train ``arm`` with (None: ``cfg.method``); may edit ``cfg`` (its training config)."""
        return None

    def models(self, h: Harness, arm: Arm, seed: int, cfg: Any) -> Any:
        """``(G, D)`` or a function returning them (called after seeding); None: the backbone ``cfg.model`` names."""
        return None

    def trainer_options(self, h: Harness, arm: Arm, seed: int, cfg: Any) -> dict[str, Any]:
        """Other keyword arguments of the arm's Trainer (e.g. ``init_from``; ``dataset=None``: the arm builds its own
        dataset from its training config, for arms whose ``run`` changes the data)."""
        return {}

    def generators(self, h: Harness, arm: Arm, seed: int) -> list[tuple[str, Any, int | None]] | None:
        """``(which, generator, step)`` of an arm the harness does not train (e.g. generators shared by several arms
        or experiments, an ensemble, or None for an arm on real data); None: train the arm and pick by the rule."""
        return None

    def fit(self, h: Harness, arm: Arm, seed: int, trainer: Any) -> None:
        """Train (without the protocol's patience): default ``trainer.fit()``."""
        trainer.fit()

    def checkpoint_score(self, h: Harness, arm: Arm, seed: int, trainer: Any) -> Any:
        """``trainer -> value`` of the checkpoint rule's metric for the trainer's current G_ema, when the package
        scores it itself (a generator whose samples need conditionings the trainer's evaluation cannot draw); None:
        the trainer's periodic evaluation. Set :attr:`scores_checkpoints` when this returns a function."""
        return None

    def instances(self, h: Harness, arm: Arm, seed: int, trainer: Any) -> tuple[Any, np.ndarray | None] | None:
        """The stored instances (features (N, d), labels or None) of an instance-conditioned generator."""
        return None

    def evaluate(self, h: Harness, arm: Arm, seed: int, G: Any, trainer: Any) -> list[dict[str, Any]]:
        """Per-seed records of one generator (default: one record, the protocol's metrics); ``trainer`` is None for
        the generators of :meth:`generators`."""
        return [h.evaluate(G, seed, instances=self.instances(h, arm, seed, trainer))]

    def results(self, h: Harness, arm: Arm, seed: int) -> list[dict[str, Any]]:
        """The records of one (arm, seed), before the harness adds the arm, seed and protocol columns: default, train
        it, then :meth:`evaluate` each generator the checkpoint rule picks. A package whose unit of work is not one
        training run (e.g. rounds of training and querying) replaces this; it is resumed and isolated the same way."""
        picked, trainer = self.generators(h, arm, seed), None
        if picked is None:
            trainer = h.train(arm, seed)
            picked = h.pick(trainer)
        return [
            {"checkpoint": which, "step": step, **rec}
            for which, G, step in picked
            for rec in self.evaluate(h, arm, seed, G, trainer)
        ]

    def finish(self, h: Harness, per_seed: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The final records from the aggregate (default: unchanged, with one bar figure per metric)."""
        bar_figures(records, h.metric_columns(per_seed), h.run_dir.path)
        return records


class Harness:
    """Runs one experiment (see the module docstring)."""

    def __init__(
        self,
        spec: ReproSpec,
        run_dir: RunDir,
        hooks: Hooks | None = None,
        group_by: Sequence[str] = ("arm",),
        title: str = "",
    ) -> None:
        from ganlab.core.train.config import ExperimentConfig

        self.spec, self.protocol, self.run_dir = spec, spec.protocol, run_dir
        self.hooks = hooks or Hooks()
        self.group_by = tuple(group_by)
        self.title = title
        self.run_cfg = from_dict(ExperimentConfig, copy.deepcopy(spec.run), where="run")
        self.records_dir = run_dir.path / "records"
        self.runs_dir = run_dir.path / "runs"  # the arms' training runs (may point at another experiment's runs)
        self.cache_dir = run_dir.path / "feature_cache"
        self.dataset: Any = None
        self._device = None

    @property
    def device(self) -> Any:
        if self._device is None:
            from ganlab.core.processes import process_state

            self._device = process_state().device
        return self._device

    @property
    def is_main(self) -> bool:
        """Whether this process writes the experiment's files (under torchrun every process runs every pair, and
        only rank 0 writes its records, logs and results, once)."""
        from ganlab.core.processes import process_state

        return process_state().is_main_process

    # ------------------------------------------------------------------------------------------------- the run
    def run(self) -> list[dict[str, Any]]:
        """Every (arm, seed), seed-major; then the aggregate. Raises :class:`ReproError` after writing results when
        some pair failed."""
        self.prepare()
        per_seed: list[dict[str, Any]] = []
        failed: list[str] = []
        for seed in self.spec.seeds:  # seed-major: an interrupted run has every arm for the first seeds
            for arm in self.spec.arms:
                try:
                    per_seed.extend(self.run_one(arm, seed))
                except Exception as exc:  # the other pairs go on; a KeyboardInterrupt stops the run
                    failed.append(f"arm {arm.name!r} seed {seed}: {type(exc).__name__}: {exc}")
                    if self.is_main:
                        self.run_dir.log_event(
                            {"event": "arm_failed", "arm": arm.name, "seed": seed, "error": traceback.format_exc()}
                        )
        if self.is_main:
            atomic_write_text(self.run_dir.path / "per_seed.csv", records_to_csv(per_seed))
        records = self.hooks.finish(self, per_seed, aggregate(per_seed, self.group_by, self.metric_columns(per_seed)))
        partial = f" (PARTIAL: {len(failed)} failed)" if failed else ""
        if self.is_main:
            self.run_dir.write_results(records, title=f"{self.title}{partial}")
        if failed:
            raise ReproError(
                f"{len(failed)} of {len(self.spec.arms) * len(self.spec.seeds)} runs failed (the other results are "
                f"in {self.run_dir.path}; rerun to retry only these):\n  " + "\n  ".join(failed)
            )
        return records

    def prepare(self) -> Harness:
        """The dataset (the hooks' or the training config's), then the hooks' ``setup``; done once by :meth:`run`."""
        from ganlab.core.train.build import build_dataset

        if self.dataset is None:
            self.dataset = self.hooks.dataset(self)
            if self.dataset is None:
                self.dataset = build_dataset(self.run_cfg)
            self.hooks.setup(self)
        return self

    def record_path(self, arm: Arm, seed: int) -> Path:
        return self.records_dir / f"{arm.name}_seed{seed}.json"

    def run_one(self, arm: Arm, seed: int) -> list[dict[str, Any]]:
        """One (arm, seed): its saved records when it finished before, else train, pick, evaluate and save."""
        done, fingerprint = self.record_path(arm, seed), self.fingerprint(arm, seed)
        if done.is_file():
            saved = json.loads(done.read_text())
            if saved.get("fingerprint") != fingerprint:
                raise ConfigError(
                    f"{done} was computed under another protocol or config; delete it (and runs/{arm.name}_seed{seed}) "
                    "to recompute, or write to another --out-dir"
                )
            return saved["records"]
        head = {"arm": arm.name, **arm.columns(), "seed": seed}
        out = [{**head, **rec, **self.protocol.as_record()} for rec in self.hooks.results(self, arm, seed)]
        if self.is_main:
            atomic_write_text(done, json.dumps({"fingerprint": fingerprint, "records": out}, indent=1, default=str))
            for rec in out:
                self.run_dir.log_metrics({"event": "arm_result", **rec})
        return out

    def fingerprint(self, arm: Arm, seed: int) -> str:
        """What a saved (arm, seed) result depends on: the spec (but the other arms and seeds), this arm, its config."""
        spec = {k: v for k, v in to_dict(self.spec).items() if k not in ("arms", "seeds")}
        data = {"spec": spec, "arm": to_dict(arm), "run": to_dict(self.train_config(arm, seed))}
        return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def train_config(self, arm: Arm, seed: int) -> Any:
        """The arm's training config for ``seed``, with the checkpoint rule's periodic evaluation."""
        from ganlab.core.train.config import ExperimentConfig

        cfg = from_dict(ExperimentConfig, deep_merge(to_dict(self.run_cfg), arm.run), where=f"arm {arm.name}: run")
        cfg.seed, cfg.name, cfg.train.progress = seed, f"{arm.name}_seed{seed}", False
        rule, p = self.protocol.checkpoint, self.protocol
        if rule.every and not self.hooks.scores_checkpoints:
            cfg.eval.metrics, cfg.eval.every = [SELECTABLE[rule.metric]], rule.every
            cfg.eval.select_best = rule.metric
            cfg.eval.extractor = p.network.name
            cfg.eval.n_fake = rule.n_fake or p.fake_count(len(self.dataset))
            cfg.eval.n_real = None  # the periodic evaluation compares with the whole training set
            cfg.eval.options = {
                "extractor_options": p.extractor_options(),
                "batch_size": p.batch_size,
                "cache_dir": str(self.cache_dir),
            }
            if SELECTABLE[rule.metric] == "prdc":
                cfg.eval.options["k"] = p.prdc.k
        return cfg

    def train(self, arm: Arm, seed: int) -> Any:
        from ganlab.core.train.trainer import Trainer

        cfg = self.train_config(arm, seed)
        method = self.hooks.configure(self, arm, seed, cfg)
        run_dir = RunDir(self.runs_dir / cfg.name)
        models = self.hooks.models(self, arm, seed, cfg)
        options = {"dataset": self.dataset, "models": models, **self.hooks.trainer_options(self, arm, seed, cfg)}
        trainer = Trainer(cfg, method, run_dir=run_dir, resume="auto", **options)
        rule = self.protocol.checkpoint
        if rule.every and self.hooks.scores_checkpoints:
            from ganlab.core.train.evaluation_schedule import attach_scored_best

            score = self.hooks.checkpoint_score(self, arm, seed, trainer)
            attach_scored_best(trainer, rule.every, score, rule.metric, rule.direction)
        if trainer.best is not None:
            trainer.best.mode = rule.direction
        if not rule.patience:
            self.hooks.fit(self, arm, seed, trainer)
        else:  # stop after `patience` evaluations without improvement (the history is read back on resume);
            # each chunk of `every` steps ends with a checkpoint, so an early stop is resumable too
            while trainer.step < cfg.train.steps and not self._exhausted(run_dir, rule):
                trainer.fit(stop_at=(trainer.step // rule.every + 1) * rule.every)
            if trainer.step < cfg.train.steps and self.is_main:
                run_dir.log_event({"event": "early_stop", "step": trainer.step, "metric": rule.metric})
        trainer.export_generator()
        return trainer

    def _exhausted(self, run_dir: RunDir, rule: Any) -> bool:
        """Whether the patience rule stops the run: decided by the main process, which writes the metrics log, and
        sent to the others (each reading the log itself could race the write and leave the processes disagreeing)."""
        history = self._history(run_dir, rule.metric) if self.is_main else []
        decision = [patience_exhausted(history, rule.metric, rule.direction, rule.patience)]
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            dist.broadcast_object_list(decision, src=0)
        return bool(decision[0])

    @staticmethod
    def _history(run_dir: RunDir, metric: str) -> list[float]:
        return [float(r["value"]) for r in run_dir.read_metrics() if r.get("metric") == metric and "step" in r]

    def pick(self, trainer: Any) -> list[tuple[str, Any, int]]:
        """``(which, generator, step)`` of each generator the protocol's checkpoint rule names: ``last``, ``best``,
        or both (``best`` only where an evaluation was kept)."""
        choice = self.protocol.checkpoint.choice
        out = [("last", trainer.G_ema, int(trainer.step))] if choice != "best" else []
        best = trainer.best
        if choice != "last" and best is not None and best.best_step is not None:
            from ganlab.core.train.checkpoint import load_generator

            out.append(("best", load_generator(best.path, trainer.device)[0], int(best.best_step)))
        elif choice == "best":
            raise GanlabError(f"no evaluation of {self.protocol.checkpoint.metric} was kept; cannot pick the best")
        return out

    # ------------------------------------------------------------------------------------------- evaluation
    def evaluate(self, G: Any, seed: int, instances: tuple[Any, np.ndarray | None] | None = None) -> dict[str, Any]:
        """The protocol's metrics of ``G`` against the training dataset (see :func:`evaluate_generator`)."""
        return evaluate_generator(
            self.protocol, G, self.dataset, seed, self.device, cache_dir=self.cache_dir, instances=instances
        )

    def metric_columns(self, per_seed: list[dict[str, Any]]) -> list[str]:
        """The numeric columns of the per-seed records that are aggregated over seeds."""
        skip = set(KEYS) | set(self.group_by) | {"is_std"}  # the IS's own std: aggregated as the std over seeds
        cols: list[str] = []
        for rec in per_seed:
            for k, v in rec.items():
                numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
                if numeric and k not in skip and not k.startswith("eval_") and k not in cols:
                    cols.append(k)
        info = {k for a in self.spec.arms for k in a.columns()}
        return [c for c in cols if c not in info]


def evaluate_generator(
    protocol: EvalProtocol,
    G: Any,
    dataset: Any,
    seed: int,
    device: Any,
    cache_dir: str | Path | None = None,
    instances: tuple[Any, np.ndarray | None] | None = None,
) -> dict[str, Any]:
    """``G``'s metrics as ``protocol`` says, against ``dataset``: the reference drawn from it, ``n_fake`` fakes from
    noise seed ``seed`` (labels / stored instances drawn as the protocol's conditioning says), FID/KID on all of
    them, P/R/D/C on the first ``prdc.n_fake`` against ``prdc.n_real`` reals of the reference, IS in ``is_splits``."""
    from ganlab.core.data import subset
    from ganlab.core.evaluation.conditioning import ConditionedGenerator
    from ganlab.core.evaluation.draws import draw_instances, draw_labels, reference_indices
    from ganlab.core.evaluation.extractor import protocol_extractor
    from ganlab.core.metrics.evaluate import evaluate

    p = protocol
    if p.prdc.split not in (None, p.reference.split):
        raise ConfigError(f"prdc.split {p.prdc.split!r}: P/R/D/C reals from another split than the reference's")
    labels = getattr(dataset, "labels", None)
    idx = reference_indices(len(dataset), p.reference.draw, p.reference.n, p.reference.seed, labels)
    ref = dataset if len(idx) == len(dataset) else subset(dataset, idx)
    n_fake = p.fake_count(len(ref))
    src: Any = G
    cond_seed = seed + p.conditioning.seed_offset
    num_classes = int(getattr(G, "num_classes", 0) or 0)
    draw_lab = num_classes and p.conditioning.labels != "uniform"
    if int(getattr(G, "feat_dim", 0) or 0):
        if instances is None:
            raise ConfigError("an instance-conditioned generator needs stored instances (Hooks.instances)")
        feats, inst_labels = instances
        target = np.bincount(np.asarray(labels)[idx]) if labels is not None else None
        pos = draw_instances(n_fake, p.conditioning.instances, cond_seed, len(feats), inst_labels, target)
        lab = draw_labels(n_fake, p.conditioning.labels, cond_seed, num_classes, labels) if num_classes else None
        src = ConditionedGenerator(G, lab, feats[pos])
    elif draw_lab:
        src = ConditionedGenerator(G, draw_labels(n_fake, p.conditioning.labels, cond_seed, num_classes, labels))
    common = dict(
        # the TF resize is not the network's own: the network goes in built, behind the resize
        extractor=protocol_extractor(p) if p.resize.method == "tf_bilinear" else p.network.name,
        extractor_options=p.extractor_options(),
        seed=seed,
        batch_size=p.batch_size,
        device=device,
        cache_dir=cache_dir,
        progress=False,
    )
    out: dict[str, Any] = {"n_real": len(ref), "n_fake": n_fake}
    records: list[dict[str, Any]] = []
    main = [m for m in p.metrics if m in ("fid", "kid")]
    if main:
        records += evaluate(_rewind(src), ref, metrics=main, n_fake=n_fake, **common)
    for fam in [m for m in p.metrics if m in ("prdc", "pr")]:
        n_real = len(ref) if p.prdc.n_real is None else min(p.prdc.n_real, len(ref))
        sub = (
            ref if n_real == len(ref) else subset(ref, reference_indices(len(ref), "random", n_real, p.reference.seed))
        )
        nf = n_fake if p.prdc.n_fake is None else min(p.prdc.n_fake, n_fake)
        records += evaluate(_rewind(src), sub, metrics=[fam], n_fake=nf, k=p.prdc.k, **common)
    for rec in records:
        out[rec["metric"]] = rec["value"]
        out.setdefault("eval_weights_sha256", rec.get("weights_sha256"))
        p.check_extractor(str(rec.get("resize", "none")))
    if "is" in p.metrics:
        out["is"], out["is_std"] = _inception_score(p, _rewind(src), n_fake, seed, device)
    return out


def _rewind(src: Any) -> Any:
    return src.rewind() if hasattr(src, "rewind") else src


def _inception_score(p: EvalProtocol, G: Any, n: int, seed: int, device: Any) -> tuple[float, float]:
    """IS of ``n`` fakes (noise seed ``seed``) over ``p.is_splits`` splits, from the evaluation network's logits."""
    from ganlab.core.evaluation.extractor import protocol_extractor
    from ganlab.core.features import extract_features
    from ganlab.core.metrics.inception_score import inception_score
    from ganlab.core.metrics.sources import generator_image_fn

    output = "logprobs" if p.network.name == "inception" else "logits"  # clean-fid's network gives log-probabilities
    ext = protocol_extractor(p, output=output)  # with the protocol's resize (tf_bilinear: the TF1 graph's)
    logits = extract_features(
        ext, generator_image_fn(G, seed, device), n=n, batch_size=p.batch_size, device=device, progress=False
    )
    mean, std = inception_score(logits, splits=p.is_splits)
    return float(mean), float(std)


# ------------------------------------------------------------------------------------------------- aggregate
def aggregate(
    per_seed: list[dict[str, Any]],
    group_by: Sequence[str],
    metrics: Sequence[str],
    columns: Sequence[str] | None = None,
    own_std: Sequence[str] = ("is",),
) -> list[dict[str, Any]]:
    """Mean and sample std (ddof 1; 0 for one seed) of each metric over the seeds of each group, in first-seen
    order. A group's first record gives its other columns (``columns``, or every non-metric one but seed and step).
    Works on a partial run's records too. A record holding a column ``m_std`` beside a metric ``m`` is refused (the
    spread over seeds would overwrite it), but for the metrics of ``own_std`` (the IS's std over its splits)."""
    clash = sorted({m for m in metrics if m not in own_std for r in per_seed if f"{m}_std" in r})
    if clash:
        raise ValueError(f"records hold both {clash[0]!r} and {clash[0] + '_std'!r}: rename the second")
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for rec in per_seed:
        groups.setdefault(tuple(rec.get(k) for k in group_by), []).append(rec)
    out = []
    for rows in groups.values():
        if columns is None:
            head = {k: v for k, v in rows[0].items() if k not in metrics and k not in ("seed", "step")}
        else:
            head = {k: rows[0].get(k) for k in columns}
        head["seeds"] = len(rows)
        for m in metrics:
            vals = np.array([r[m] for r in rows if m in r], dtype=np.float64)
            if len(vals):
                head[m] = float(vals.mean())
                head[f"{m}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        out.append(head)
    return out


def bar_figures(records: list[dict[str, Any]], metrics: Sequence[str], folder: Path) -> list[Path]:
    """One bar chart (mean ± std over seeds) per metric, ``figure_<metric>.png``, one bar per record."""
    if not records or not metrics:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    names = [str(r.get("arm", i)) for i, r in enumerate(records)]
    for m in metrics:
        if not all(m in r for r in records):
            continue
        fig, ax = plt.subplots(figsize=(max(3.0, 0.8 * len(records)), 3.0))
        ax.bar(names, [r[m] for r in records], yerr=[r.get(f"{m}_std", 0.0) for r in records], capsize=3)
        ax.set_ylabel(m)
        ax.tick_params(axis="x", labelrotation=45)
        fig.tight_layout()
        path = folder / f"figure_{m}.png"
        folder.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths
