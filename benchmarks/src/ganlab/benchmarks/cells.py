"""One cell of a suite: (setting, method, seed) — train (or reuse the training another cell shares), sample,
evaluate, export per-instance scores, and write ``cell.json``.

Layout under the suite's run folder::

    <setting>/_shared/                      the in-domain classifier and reference features (made once)
    <setting>/_train/<signature>/seed<k>/   a core trainer run directory (resumable; shared by the methods whose
                                            training parts are the same, e.g. vanilla and vanilla + DRS)
    <setting>/<method>/seed<k>/cell.json    status, metrics and protocol of the cell (the core protocol's eval_*
                                            columns among them); samples.png

A cell whose ``cell.json`` says ``done`` is skipped on a re-run; an unfinished training resumes from its checkpoint,
so an interrupted suite finishes with the numbers an uninterrupted one gets.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.benchmarks.compose import ResolvedMethod, resolve
from ganlab.benchmarks.protocol import SettingContext, evaluate_samples
from ganlab.benchmarks.trained import Trained
from ganlab.core.errors import GanlabError
from ganlab.core.fileio import atomic_save, atomic_write_bytes, atomic_write_text

__all__ = ["Cell", "Trained", "read_cell", "run_cell"]


class Cell:
    """A (setting, method, seed) of a suite run rooted at ``root``."""

    def __init__(self, suite: Any, setting: str, method: str, seed: int, root: str | Path, ctx: Any = None) -> None:
        self.suite, self.setting, self.method_name, self.seed = suite, setting, method, int(seed)
        self.root = Path(root)
        self.ctx = ctx if ctx is not None else SettingContext(suite, setting, root)
        self.spec = suite.methods[method]
        self.parts: ResolvedMethod = resolve(self.spec.parts, where=f"method {method!r}")
        self.dir = self.root / setting / method / f"seed{self.seed}"
        self.positions: np.ndarray | None = None  # full-dataset positions of the training view (data parts)
        self.selection = None
        self.cfg = None

    # ---------------------------------------------------------------------------------------------- identity
    def signature(self) -> str:
        """A hash of everything that decides the training (not the sampling): the training folder's name."""
        parts = [p.signature() for p in self.parts.training_parts()]
        text = json.dumps({"run": self.ctx.spec.run, "parts": parts}, sort_keys=True, default=str)
        names = "+".join(p.name for p in self.parts.training_parts()) or "vanilla"
        return f"{names}-{hashlib.sha1(text.encode()).hexdigest()[:10]}"

    @property
    def eval_protocol(self) -> Any:
        """The core protocol of this cell's numbers: the setting's, as the method draws its samples."""
        return self.parts.eval_protocol(self.ctx.eval_protocol)

    @property
    def train_dir(self) -> Path:
        return self.root / self.setting / "_train" / self.signature() / f"seed{self.seed}"

    def unfit(self) -> str | None:
        """Why this cell cannot run here (a missing package, or data the method cannot use), or None."""
        for p in self.parts.parts:
            why = p.missing()
            if why:
                return why
        for p in self.parts.parts:
            why = p.unfit(self.ctx.dataset)
            if why:
                return why
        return None

    # -------------------------------------------------------------------------------------------- training
    def config(self) -> Any:
        from ganlab.core.config import from_dict
        from ganlab.core.train.config import ExperimentConfig

        raw = copy.deepcopy(self.ctx.spec.run)
        for p in self.parts.parts:
            p.configure(self, raw)
        raw["seed"] = self.seed
        raw["name"] = f"{self.setting}-{self.signature()}-seed{self.seed}"
        raw.setdefault("train", {})
        raw["train"] = {"progress": False, **raw["train"]}
        return from_dict(ExperimentConfig, raw)

    def train(self) -> Trained:
        self.cfg = self.config()
        ensemble = self.parts.one("ensemble")
        if ensemble is not None:
            return ensemble.train(self)
        from ganlab.core.train.trainer import Trainer

        dataset = self.ctx.dataset
        for p in self.parts.role("data"):
            dataset = p.data(self, dataset)
        self.positions = getattr(dataset, "indices", None)
        train_part = self.parts.one("train")
        method = train_part.method(self) if train_part is not None else None
        trainer = Trainer(self.cfg, method, run_dir=self.train_dir, dataset=dataset, resume="auto")
        trainer.fit()
        models = {name: trainer.unwrap(m) for name, m in trainer.models.items()}
        return Trained(G=trainer.G_ema.eval(), models=models, trainer=trainer)

    # ---------------------------------------------------------------------------------------------- samples
    def sample(self, trained: Trained, n: int) -> dict[str, torch.Tensor]:
        part = self.parts.sampler()
        seed = 10_000 + self.seed
        if part is not None:
            return part.sample(self, trained, n, seed)
        from ganlab.core.sampling import generate_samples

        return generate_samples(trained.G, n, seed=seed, device=trained.device)

    def instance_scores(self, trained: Trained) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for p in self.parts.parts:
            out.update(p.scores(self, trained))
        return out


def read_cell(path: str | Path) -> dict[str, Any] | None:
    p = Path(path) / "cell.json"
    return json.loads(p.read_text()) if p.is_file() else None


def _sheet(cell: Cell, images: torch.Tensor) -> None:
    from ganlab.core.images import images_to_png

    # evenly spaced over the samples: samplers that return them grouped by class (GOLD rejection) show every class
    n = min(cell.ctx.spec.protocol.sheet, len(images))
    pick = torch.linspace(0, len(images) - 1, n).round().long() if n else torch.zeros(0, dtype=torch.long)
    atomic_write_bytes(cell.dir / "samples.png", images_to_png(images[pick]))


def run_cell(cell: Cell) -> dict[str, Any]:
    """Run one cell unless its cell.json says done; a failure is recorded (with its message), not raised."""
    done = read_cell(cell.dir)
    if done is not None and done.get("status") == "done":
        return done
    base = {"setting": cell.setting, "method": cell.method_name, "seed": cell.seed, "baseline": cell.spec.baseline,
            **cell.eval_protocol.as_record()}  # fmt: skip
    why = cell.unfit()
    if why is not None:
        record = {**base, "status": "skipped", "message": why}
        atomic_write_text(cell.dir / "cell.json", json.dumps(record, indent=2))
        return record
    t0 = time.perf_counter()
    try:
        trained = cell.train()
        train_s = time.perf_counter() - t0
        samples = cell.sample(trained, cell.ctx.n_fake)
        metrics = evaluate_samples(cell.ctx, samples, seed=cell.seed)
        if samples["image"].ndim == 4:
            _sheet(cell, samples["image"])
        scores = cell.instance_scores(trained)
        if scores:
            atomic_save(scores, cell.train_dir / "instance_scores.npz", saver=lambda obj, f: np.savez(f, **obj))
        if trained.trainer is not None:
            trained.trainer.close()
        record = {
            **base,
            "status": "done",
            "metrics": metrics,
            "protocol": cell.ctx.protocol(),
            "train_dir": str(cell.train_dir),
            "train_s": train_s,
            "wall_s": time.perf_counter() - t0,
            "scores": sorted(scores),
        }
        if "drs_acceptance" in samples:  # DRS or GOLD rejection: the share of proposals kept
            record["metrics"]["acceptance"] = float(samples["drs_acceptance"])
    except Exception as exc:  # a failed cell (a diverged run, a bug) is recorded and never stops the suite
        record = {**base, "status": "failed", "message": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc(limit=8)}  # fmt: skip
        if not isinstance(exc, GanlabError):
            print(
                f"cell {cell.setting}/{cell.method_name}/seed{cell.seed} failed: {record['message']}", file=sys.stderr
            )
    atomic_write_text(cell.dir / "cell.json", json.dumps(record, indent=2, default=str))
    return record
