"""Step cost of every paper-scale training config on this machine's accelerator, with AMP off and on.

For each experiment's ``paper`` scale (``paper_configs.py``) the real trainer step (core's ``Trainer.train_step``:
``n_dis`` D steps, one G step, EMA, the method's ``on_step_end``) runs at the paper's batch per GPU (the global batch
over the paper's GPU count where the config file says it, else the config's batch) for a few warm-up steps and
~10 timed ones, once in fp32 and once under autocast. Reported: G steps/s, real images/s (steps x batch x n_dis, as
the trainer counts them), peak memory (``torch.cuda.max_memory_allocated``; on CPU the process's peak RSS so far),
the data-loader share of a step (time in the trainer's batch fetch over the step, both with the device synchronised,
in a separate pass), and the estimated wall time to the paper's step count on 1 GPU (gradient accumulation up to
the global batch) and on 8 GPUs (assuming linear data-parallel scaling: 1 GPU's time / 8, no communication cost).

Data that is not on disk is replaced by synthetic tensors of the right shape (the point is the model/step cost);
the ``data`` column says which. A method that cannot be set up without its real data or weights is run as the plain
method (vanilla) on the same backbone, and the row says so; a missing pretrained extractor of a method's setup is
replaced by a random-weight network of the same kind. Periodic work (evaluation, samples, checkpoints, per-instance
recording every k steps) is not part of the measured step. One config that fails is a row with its error.

    python benchmarks/gpu/paper_speed.py [--only diagan/table2,gold/table1_mnist] [--amp-dtype bf16]
    python benchmarks/gpu/paper_speed.py --dry-run --only gold/figure3     # CPU, batch 2, one step, no AMP

Writes runs/bench/gpu_paper.json and runs/bench/gpu_paper.md (``--out-dir``).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paper_configs import PaperConfig, paper_configs

COLUMNS = [
    "config",
    "backbone",
    "method",
    "data",
    "batch_per_gpu",
    "global_batch",
    "paper_gpus",
    "amp",
    "steps_per_s",
    "img_per_s",
    "peak_mem_mib",
    "loader_share",
    "paper_steps",
    "est_hours_1gpu",
    "est_hours_8gpu",
    "note",
]
# synthetic items: at least 2 batches and more than an instance method's k neighbours; fewer in a dry run, where a
# method's setup (e.g. IC-GAN's feature extraction over the data) runs on the CPU
N_SYNTHETIC = 256
N_SYNTHETIC_DRY = 64


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_mib(device) -> float:
    import resource

    import torch

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB; the process's peak so far


def synthetic_dataset(data_shape: tuple[int, ...], num_classes: int, n: int):
    """``n`` random items of the model's data shape: uint8 images, or float vectors for 1-d data."""
    import numpy as np
    import torch

    from ganlab.core.data.base import TensorDataset

    g = torch.Generator().manual_seed(0)
    if len(data_shape) == 1:
        data = torch.randn(n, *data_shape, generator=g)
    else:
        data = torch.randint(0, 256, (n, *data_shape), generator=g, dtype=torch.uint8)
    labels = np.arange(n) % max(num_classes, 1)
    return TensorDataset("synthetic", data, labels, num_classes=num_classes, identity={"synthetic": list(data_shape)})


def timing_config(row: PaperConfig, batch: int, amp: str, out: str, notes: list[str]):
    """The paper config set up for timing: this batch per process, no logging, sampling, evaluation or checkpoints."""
    from ganlab.core.features.weights import weights_present

    cfg = copy.deepcopy(row.ecfg)
    cfg.name, cfg.out_dir = "speed", out
    t, o, e = cfg.train, cfg.optim, cfg.eval
    t.batch_size, t.mixed_precision = batch, amp
    t.progress = t.tensorboard = False
    t.log_every = t.sample_every = t.checkpoint_every = 0
    e.metrics, e.every, e.select_best = [], 0, None
    if batch % o.d_accum or batch % o.g_accum:
        notes.append(f"accumulation {o.d_accum}/{o.g_accum} -> 1 (batch {batch})")
        o.d_accum = o.g_accum = 1
    opts = dict(cfg.method.options)
    ext = opts.get("extractor")
    if isinstance(ext, str) and not weights_present(ext):
        opts["extractor"] = "random:resnet50"  # same kind of network, random weights: setup cost only, not the step
        notes.append(f"{ext} weights absent: random:resnet50 features")
    if "cache_dir" in opts or cfg.method.name == "icgan":
        opts["cache_dir"] = str(Path(out) / "cache")
    cfg.method.options = opts
    return cfg


def _dataset_for(cfg, row: PaperConfig, G, n: int, synthetic: bool):
    from ganlab.core.data.presence import dataset_present

    d = cfg.data
    if not synthetic and dataset_present(d.name, d.root, d.split or "train"):
        return None, "real"  # the trainer builds it from the config
    shape = tuple(getattr(G, "data_shape", ()) or ())
    return synthetic_dataset(shape, int(getattr(G, "num_classes", 0) or 0), n), "synthetic"


def build_trainer(
    row: PaperConfig, batch: int, amp: str, out: str, synthetic: bool, notes: list[str], dry_run: bool = False
):
    """A Trainer of the row's config that has run one step; falls back to vanilla on the same backbone."""
    from ganlab.core.train import Trainer
    from ganlab.core.train.build import build_models

    cfg = timing_config(row, batch, amp, out, notes)
    last = None
    for attempt in ("method", "vanilla"):
        if attempt == "vanilla":
            if cfg.method.name == "vanilla":
                break
            notes.append(f"vanilla on the same backbone ({cfg.method.name}: {last})")
            cfg.method.name, cfg.method.options = "vanilla", {}
        G, D = build_models(cfg)
        k = int((cfg.method.options or {}).get("k") or 0)
        n = max(N_SYNTHETIC_DRY if dry_run else N_SYNTHETIC, 2 * batch, k + 1)
        dataset, kind = _dataset_for(cfg, row, G, n, synthetic)
        if cfg.method.name == "gold" and cfg.method.options.get("epochs") is not None:
            _gold_timing(cfg, dataset, notes)
        run_dir = Path(out) / attempt
        trainer = None
        try:
            trainer = Trainer(cfg, run_dir=run_dir, dataset=dataset, models=(G, D))
            trainer.train_step()
            return trainer, kind
        except Exception as exc:
            import torch

            if trainer is not None:
                trainer.close()  # release its run directory
            del trainer
            if isinstance(exc, torch.cuda.OutOfMemoryError):
                raise
            last = _short(exc)
            del G, D
            gc.collect()
    raise RuntimeError(last)


def _short(exc: BaseException) -> str:
    """An error in one line (a registry's list of every name cut off)."""
    text = (str(exc).splitlines() or [""])[0].split("; choose one of")[0]
    return f"{type(exc).__name__}: {text[:200]}"


def _gold_timing(cfg, dataset, notes: list[str]) -> None:
    """GOLD checks train.steps against its epochs on this data; re-weighting from the first step, the GOLD step."""
    from ganlab.gold.method import resolve_steps

    cfg.method.options = {**cfg.method.options, "start_epoch": 0}
    cfg.train.steps = resolve_steps(cfg, dataset)
    if "re-weighting" not in " ".join(notes):
        notes.append("timed with re-weighting on (start_epoch 0)")


def measure(trainer, warmup: int, steps: int, loader_steps: int, budget_s: float) -> dict[str, float]:
    """Steps/s over ``steps`` timed steps (fewer past ``budget_s``), then the loader share over ``loader_steps``
    (``steps=0``: the steps/s of that synchronised pass, as a dry run's one step)."""
    device = trainer.device
    for _ in range(warmup):
        trainer.train_step()
    _sync(device)
    t0 = time.perf_counter()
    done = 0
    while steps and done < steps and (done < 2 or time.perf_counter() - t0 < budget_s):
        trainer.train_step()
        done += 1
    _sync(device)
    sps = done / (time.perf_counter() - t0) if done else 0.0

    waited = [0.0]
    fetch = trainer.streams.next

    def timed_next(name, n):
        _sync(device)
        s = time.perf_counter()
        out = fetch(name, n)
        _sync(device)
        waited[0] += time.perf_counter() - s
        return out

    trainer.streams.next = timed_next
    try:
        _sync(device)
        t1 = time.perf_counter()
        for _ in range(loader_steps):
            trainer.train_step()
        _sync(device)
        total = time.perf_counter() - t1
    finally:
        trainer.streams.next = fetch
    if not done:
        sps = loader_steps / total if total > 0 else 0.0
    return {"steps_per_s": sps, "loader_share": waited[0] / total if total > 0 else 0.0}


def _signature(row: PaperConfig, batch: int, amp: str, synthetic: bool) -> str:
    """Rows that train the same step (configs differing in step count or protocol only) are measured once."""
    from ganlab.core.config import to_dict

    d = to_dict(row.ecfg)
    for k in ("name", "out_dir", "seed"):
        d.pop(k, None)
    d["train"].pop("steps", None)
    d["method"]["options"].pop("epochs", None)
    return json.dumps([d, batch, amp, synthetic], sort_keys=True, default=str)


def run_one(row: PaperConfig, amp: str, args: argparse.Namespace, device) -> dict[str, Any]:

    batch = 2 if args.dry_run else row.batch_per_gpu
    notes = list(row.notes)
    out = {c: None for c in COLUMNS}
    out.update(config=row.key, amp=amp, batch_per_gpu=batch, paper_steps=row.steps, paper_gpus=row.gpus)
    if row.ecfg is not None:
        out.update(backbone=row.ecfg.model.backbone, method=row.ecfg.method.name, global_batch=row.global_batch)
    if row.status != "ok":
        notes.append(f"experiment {row.status[:80]}")
    if row.error:
        out["note"] = "; ".join([*notes, row.error])
        return out
    while True:
        oom = _measure_into(out, row, batch, amp, args, device, notes)
        if not oom or batch <= 1:
            break
        batch //= 2  # does not fit: measure half the batch, accumulated to the paper's (the estimates say so)
        notes.append(f"batch {batch * 2} per GPU out of memory: measured at {batch}")
        out["batch_per_gpu"] = batch
    out["note"] = "; ".join(notes)
    return out


def _measure_into(out, row, batch, amp, args, device, notes) -> bool:
    """Measure one (config, batch, AMP) into ``out``; True when the batch did not fit in the GPU's memory."""
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        trainer = None
        try:
            if device.type == "cuda":
                gc.collect()  # the previous trainer's (or out-of-memory attempt's) tensors
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(device)
            trainer, kind = build_trainer(row, batch, amp, tmp, args.synthetic or args.dry_run, notes, args.dry_run)
            out["method"], out["data"] = trainer.cfg.method.name, kind
            if args.dry_run:
                r = measure(trainer, 0, 0, 1, budget_s=0.0)
            else:
                r = measure(trainer, args.warmup, args.steps, args.loader_steps, args.pass_s)
            sps = r["steps_per_s"]
            out.update(
                steps_per_s=round(sps, 3),
                img_per_s=round(sps * batch * row.ecfg.optim.n_dis, 1),
                peak_mem_mib=round(_peak_mib(device), 1),
                loader_share=round(r["loader_share"], 4),
            )
            _estimate(out, row, args.dry_run)
        except torch.cuda.OutOfMemoryError:
            return True
        except Exception as exc:
            notes.append(f"error: {_short(exc)}")
        finally:
            if trainer is not None:
                trainer.close()
            del trainer
            gc.collect()
    return False


def markdown(info: dict[str, Any]) -> str:
    head = [
        f"# Paper-config step cost ({info['device']}, torch {info['torch']})",
        "",
        info["summary"],
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    body = [
        "| " + " | ".join("" if r[c] is None else str(r[c]).replace("|", "/") for c in COLUMNS) + " |"
        for r in info["rows"]
    ]
    return "\n".join(head + body) + "\n"


def main(argv=None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated substrings of package/experiment keys")
    parser.add_argument("--dry-run", action="store_true", help="CPU, batch 2, one step per config, no AMP")
    parser.add_argument("--amp-dtype", choices=("bf16", "fp16"), default="bf16", help="the AMP run's autocast dtype")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per config and AMP mode")
    parser.add_argument("--loader-steps", type=int, default=3, help="steps of the (synchronised) loader-share pass")
    parser.add_argument("--pass-s", type=float, default=4.0, help="stop a timed pass after this many seconds")
    parser.add_argument(
        "--budget-s", type=float, default=500.0, help="skip the configs left after this long (not in a dry run)"
    )
    parser.add_argument("--synthetic", action="store_true", help="synthetic data even where the real data is here")
    parser.add_argument("--out-dir", default="runs/bench")
    args = parser.parse_args(argv)
    import torch

    device = torch.device("cpu" if args.dry_run or not torch.cuda.is_available() else "cuda")
    if args.dry_run:
        import os

        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the trainer's Accelerator then stays on the CPU too
    amps = ["no"] if args.dry_run else ["no", args.amp_dtype]
    rows_cfg = paper_configs(args.only)
    if args.dry_run:
        for row in rows_cfg:
            what = f"batch {row.batch_per_gpu}/GPU" if row.ecfg is not None else row.error
            print(f"would measure {row.key}: {what}, AMP {'/'.join(['no', args.amp_dtype])}, paper steps {row.steps}")
    start, done, rows = time.perf_counter(), {}, []
    for row in rows_cfg:
        for amp in amps:
            batch = 2 if args.dry_run else row.batch_per_gpu
            sig = _signature(row, batch, amp, args.synthetic or args.dry_run) if row.ecfg is not None else None
            over = not args.dry_run and time.perf_counter() - start > args.budget_s  # a dry run checks every config
            if sig not in done and over:
                rows.append({**{c: None for c in COLUMNS}, "config": row.key, "amp": amp, "note": "skipped: budget"})
                continue
            if sig in done:
                first = done[sig]
                rows.append(
                    {
                        **first,
                        "config": row.key,
                        "paper_steps": row.steps,
                        "paper_gpus": row.gpus,
                        "note": f"same step as {first['config']}"
                        + ("" if first["steps_per_s"] else f" ({first['note']})"),
                    }
                )
                _estimate(rows[-1], row, args.dry_run)
            else:
                rows.append(run_one(row, amp, args, device))
                if sig is not None:
                    done[sig] = rows[-1]
            r = rows[-1]
            print(
                f"{r['config']:40s} {amp:4s} batch {r['batch_per_gpu']!s:>5} {r['steps_per_s']!s:>8} steps/s "
                f"{r['img_per_s']!s:>9} img/s  mem {r['peak_mem_mib']!s:>8} MiB  loader {r['loader_share']!s:>6}  "
                f"{r['method']} {r['data']}  {r['note'] or ''}",
                flush=True,
            )
    summary = (
        (
            "DRY RUN on CPU (batch 2, one step, no AMP): checks the path, measures nothing about a GPU. "
            if args.dry_run
            else ""
        )
        + f"Model/step cost per config: the trainer's real step at the paper's batch per GPU; data marked synthetic "
        f"is random tensors of the right shape (the data is not here). AMP = torch.autocast {args.amp_dtype}. img/s = "
        "steps/s x batch x n_dis. peak_mem_mib: torch.cuda.max_memory_allocated (CPU: the process's peak RSS so "
        "far). loader_share: the batch fetch's share of a step, device synchronised. est_hours_8gpu assumes linear "
        "data-parallel scaling (1 GPU's time / 8, no communication cost); est_hours_1gpu accumulates the per-GPU "
        "batch up to the paper's global batch."
    )
    info = {
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "dry_run": args.dry_run,
        "amp_dtype": args.amp_dtype,
        "wall_s": round(time.perf_counter() - start, 1),
        "summary": summary,
        "columns": COLUMNS,
        "rows": rows,
    }
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_paper.json").write_text(json.dumps(info, indent=2))
    (out / "gpu_paper.md").write_text(markdown(info))
    print(f"wrote {out / 'gpu_paper.json'} and {out / 'gpu_paper.md'} ({info['wall_s']} s)")
    return info


def _estimate(out: dict[str, Any], row: PaperConfig, dry_run: bool) -> None:
    """The wall-time estimates of a row that reuses another config's measured step, for its own step count."""
    out["est_hours_1gpu"] = out["est_hours_8gpu"] = None
    if row.steps and out["steps_per_s"] and not dry_run:
        hours_1 = row.steps * (row.global_batch / out["batch_per_gpu"]) / out["steps_per_s"] / 3600
        out.update(est_hours_1gpu=round(hours_1, 2), est_hours_8gpu=round(hours_1 / 8, 2))


if __name__ == "__main__":
    main()
