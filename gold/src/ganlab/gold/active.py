"""Active learning with GOLD (Mo et al. 2019, §3.2 and §4.3; the official ``main.py`` loop).

Rounds of *train -> query -> grow the labelled set* from ``(initial, per-query, final)`` sizes: (4, 1, 8) on the
synthetic set, (10, 2, 18) MNIST, (20, 5, 40) FMNIST, (20, 20, 100) SVHN, i.e. five training rounds. Each round:

- trains the ``gold`` method semi-supervised (labelled set + unlabelled pool) for ``epochs`` epochs, keeping G from
  the previous round and re-initialising D and both optimisers (``reinit: keep_g``; ``random`` re-initialises both);
- every ``eval_every`` epochs measures fitting capacity on the 100-image class-balanced validation set (and on the
  test set) and keeps the best model (``>=``, as the official code; but a real copy: the official "best" state dicts
  share storage with the live parameters, so it ends up using the final model);
- queries ``per_query`` pool items by GOLD (eq. 8; eq. 9 ``gold_balanced`` for the synthetic set) or at random.

Every round has its own run directory (``round_XX/``, a resumable trainer run) holding ``split.npz`` and
``queries.json``; ``active.json`` lists the finished rounds and ``metrics.jsonl`` gets one record per round, so a
stopped run resumes between rounds and within one.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError
from ganlab.core.results import RunDir, atomic_save, atomic_write_text
from ganlab.core.train.config import ExperimentConfig
from ganlab.gold.options import ActiveConfig, GoldOptions
from ganlab.gold.query import select_queries
from ganlab.gold.split import Split, class_balanced_split, load_split, save_split

__all__ = ["ActiveConfig", "check_sizes", "run_active_learning"]


def check_sizes(active: ActiveConfig, n_candidates: int, num_classes: int) -> None:
    """The labelled set must fit next to the validation set in the training items (the pool must hold the queries)."""
    init, per, final = active.sizes
    if init < num_classes:
        raise ConfigError(
            f"active.sizes: the initial set ({init}) needs at least one item of each of {num_classes} classes"
        )
    if final + active.val_size > n_candidates:
        raise ConfigError(
            f"active.sizes: a final labelled set of {final} plus {active.val_size} validation items exceeds the "
            f"{n_candidates} training items (the pool cannot supply the queries)"
        )


def _round_config(cfg: ExperimentConfig, active: ActiveConfig, r: int, split_path: Path, out: Path) -> ExperimentConfig:
    rc = copy.deepcopy(cfg)
    opts = dict(rc.method.options)
    opts.update(
        split_file=str(split_path),
        epochs=active.epochs,
        eval_every=active.eval_every,
        select_best=True,
        split_seed=cfg.seed,
        num_labelled=None,
        label_fraction=None,
    )
    rc.method.options = opts
    rc.seed = cfg.seed + 1000 * r  # a fresh D initialisation each round (G is carried over)
    rc.name = f"round_{r:02d}"
    rc.out_dir = str(out)
    return rc


def _state(out: Path) -> dict[str, Any]:
    path = out / "active.json"
    return json.loads(path.read_text()) if path.is_file() else {"rounds": []}


def run_active_learning(
    cfg: ExperimentConfig,
    active: ActiveConfig,
    out: str | Path,
    *,
    dataset: Any = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Run (or resume) every round; returns one record per round (labelled-set size, fitting capacities, queries)."""
    from ganlab.core.config import from_dict
    from ganlab.core.data import get_dataset
    from ganlab.core.nn import build_backbone
    from ganlab.core.train.trainer import Trainer
    from ganlab.gold.method import _holdout, resolve_steps

    active.validate()
    if cfg.method.name != "gold":
        raise ConfigError(f"active learning trains the gold method, not {cfg.method.name!r}")
    opts = from_dict(GoldOptions, dict(cfg.method.options), where="method.options")
    d = cfg.data
    ds = (
        dataset
        if dataset is not None
        else get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
    )
    num_classes = int(ds.num_classes)
    held = _holdout(len(ds), opts.holdout, cfg.seed)
    cand = np.setdiff1d(np.arange(len(ds)), held)
    check_sizes(active, cand.size, num_classes)
    init, per, final = active.sizes
    out = Path(out)
    top = RunDir(out)
    state = _state(out)
    done = {rec["round"]: rec for rec in state["rounds"]}
    n_rounds = (final - init) // per + 1
    records: list[dict[str, Any]] = []
    for r in range(n_rounds):
        rdir = out / f"round_{r:02d}"
        split_path = rdir / "split_in.npz"
        if r in done and (done[r].get("queried") is not None or r == n_rounds - 1):
            records.append(done[r])
            continue
        if r == 0:
            split = class_balanced_split(ds.labels, num_classes, init, active.val_size, cfg.seed, candidates=cand)
        else:
            prev = out / f"round_{r - 1:02d}"
            split = load_split(prev / "split_in.npz").add(np.asarray(done[r - 1]["queried"], dtype=np.int64))
        rdir.mkdir(parents=True, exist_ok=True)
        if not split_path.is_file():
            save_split(split, split_path)
        rc = _round_config(cfg, active, r, split_path, out)
        rc.train.progress = progress
        rc.train.steps = resolve_steps(rc, ds)
        prev_models = out / f"round_{r - 1:02d}" / "models.pt"

        def models(rc=rc, prev_models=prev_models, r=r):
            G, D = build_backbone(rc.model.backbone, **rc.model.options)
            if r > 0 and active.reinit == "keep_g":
                G.load_state_dict(torch.load(prev_models, map_location="cpu", weights_only=False)["G"])
            return G, D

        trainer = Trainer(rc, run_dir=rdir, resume="auto", dataset=ds, models=models)
        trainer.fit()
        best = trainer.method.restore_best(trainer)
        last = trainer.method.history[-1] if trainer.method.history else {}
        if trainer.is_main:
            atomic_save(
                {"G": trainer.unwrap(trainer.G).state_dict(), "D": trainer.unwrap(trainer.D).state_dict()},
                rdir / "models.pt",
            )
        rec: dict[str, Any] = {
            "round": r,
            "n_labelled": int(split.labelled.size),
            "query": active.query,
            "best_epoch": best["epoch"] if best else None,
            "cap_val": best["cap_val"] if best else last.get("cap_val"),
            "cap_test": best["cap_test"] if best else last.get("cap_test"),
            "cap_test_last": last.get("cap_test"),
            "class_counts": np.bincount(ds.labels[split.labelled], minlength=num_classes).tolist(),
            "queried": None,
        }
        if active.snapshot and trainer.is_main:
            _snapshot(trainer, split, rdir, active.snapshot)
        if split.labelled.size < final:
            rng = np.random.default_rng([cfg.seed, r, 4021])
            q, scores = select_queries(
                active.query,
                trainer.unwrap(trainer.D),
                ds,
                split.pool,
                per,
                rng=rng,
                batch_size=active.query_batch_size,
                device=trainer.device,
            )
            rec["queried"] = q.tolist()
            atomic_write_text(
                rdir / "queries.json",
                json.dumps({"indices": q.tolist(), "scores": None if scores is None else scores.tolist()}, indent=2),
            )
        done[r] = rec
        state["rounds"] = [done[k] for k in sorted(done)]
        atomic_write_text(out / "active.json", json.dumps(state, indent=2))
        top.log_metrics({"event": "round", **rec})
        records.append(rec)
    return records


def _snapshot(trainer: Any, split: Split, rdir: Path, n: int) -> None:
    """Generated samples of the round's selected G (and, for 2-D data, GOLD on a grid) for Figure 3."""
    from ganlab.core.results import atomic_write_bytes
    from ganlab.gold.scoring import score_generated, score_real

    G, D = trainer.unwrap(trainer.G), trainer.unwrap(trainer.D)
    gen = score_generated(G, D, n, seed=trainer.cfg.seed, device=trainer.device, keep_images=True)
    payload: dict[str, Any] = {"images": gen["images"].numpy(), "labels": gen["labels"]}
    ds = trainer.dataset
    if len(ds.shape) == 1:
        pts = ds.get_batch(np.arange(len(ds)))["image"]
        lo, hi = pts.min(0).values - 1.0, pts.max(0).values + 1.0
        gx, gy = torch.meshgrid(torch.linspace(lo[0], hi[0], 80), torch.linspace(lo[1], hi[1], 80), indexing="xy")
        grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
        pool_s = score_real(D, pts[split.pool], None, device=trainer.device)
        grid_s = score_real(D, grid, None, device=trainer.device)
        sg, sc = pool_s["marginal"].std(), max(pool_s["entropy"].std(), 1e-12)
        payload.update(
            grid=grid.numpy(),
            field=grid_s["marginal"] + (sg / sc) * grid_s["entropy"],
            labelled=pts[split.labelled].numpy(),
            labelled_y=ds.labels[split.labelled],
        )
    import io

    buf = io.BytesIO()
    np.savez(buf, **payload)
    atomic_write_bytes(rdir / "snapshot.npz", buf.getvalue())
