"""Training throughput of the ganlab trainer vs a minimal hand-written PyTorch loop, per backbone, at smoke size.

Both loops train the same (G, D) pair on the same in-memory data with the same batch: one D step (NS loss, real +
detached fake) and one G step per iteration, Adam. The hand loop is the textbook one (index a tensor, forward,
backward, step); the trainer adds everything it owns (samplers, hooks, AMP scalers, logging bookkeeping, EMA off).
Timings interleave the two loops over several rounds and report the median, since the machine may be shared.

    python benchmarks/speed/bench_train.py [--steps 20] [--rounds 3] [--batch 16] [--only dcgan,sngan]

Writes runs/bench/bench_train.json and prints a table: img/s (real images per second) and the ratio trainer/hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

# (name, backbone, options, data shape, num_classes) at smoke size
BACKBONES = [
    ("mlp", "toy_mlp", {}, (2,), 0),
    ("dcgan", "dcgan", {"resolution": 32, "channels": 1, "ngf": 16, "ndf": 16}, (1, 32, 32), 0),
    ("acgan", "dcgan32_diagan_mnist", {}, (1, 32, 32), 0),
    ("infogan", "acgan_mnist_gold", {}, (1, 32, 32), 10),
    ("sngan", "sngan", {"resolution": 32, "channels": 3, "ngf": 32, "ndf": 32}, (3, 32, 32), 0),
    ("biggan", "biggan", {"resolution": 32, "channels": 3, "ch": 8, "num_classes": 10}, (3, 32, 32), 10),
    (
        "sagan",
        "sagan",
        {"resolution": 32, "channels": 3, "ch": 8, "num_classes": 10, "g_attn": "16", "d_attn": "16"},
        (3, 32, 32),
        10,
    ),
]


def _dataset(shape, num_classes, n=512):
    from ganlab.core.data.base import TensorDataset

    g = torch.Generator().manual_seed(0)
    if len(shape) == 1:
        data = torch.randn(n, *shape, generator=g)
    else:
        data = torch.randint(0, 256, (n, *shape), generator=g, dtype=torch.uint8)
    labels = np.arange(n) % max(num_classes, 1)
    return TensorDataset("bench", data, labels, num_classes=num_classes, identity={"bench": list(shape)})


def _cfg(backbone: str, options: dict, batch: int, out: str):
    from ganlab.core.train.config import ExperimentConfig

    cfg = ExperimentConfig(name="bench", out_dir=out)
    cfg.model.backbone, cfg.model.options = backbone, dict(options)
    cfg.train.batch_size = batch
    cfg.train.steps = 10**9
    cfg.train.progress = cfg.train.tensorboard = False
    cfg.train.log_every = cfg.train.sample_every = cfg.train.checkpoint_every = 0
    cfg.optim.betas = (0.5, 0.999)
    return cfg


def time_trainer(backbone, options, dataset, batch, steps, device) -> float:
    from ganlab.core.nn import build_backbone
    from ganlab.core.train import Trainer

    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(
            _cfg(backbone, options, batch, tmp), dataset=dataset, models=lambda: build_backbone(backbone, **options)
        )
        for _ in range(3):
            trainer.train_step()
        return _timed(trainer.train_step, batch, steps, device)


def time_hand_loop(backbone, options, dataset, batch, steps, device) -> float:
    from ganlab.core.nn import build_backbone

    torch.manual_seed(0)
    G, D = build_backbone(backbone, **options)
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = dataset.get_batch(np.arange(len(dataset)))
    images, labels = data["image"].to(device), data["label"].to(device)
    nc = int(getattr(G, "num_classes", 0) or 0)

    def step():
        idx = torch.randint(0, len(images), (batch,), device=device)
        real, y_real = images[idx], (labels[idx] if nc else None)
        z = torch.randn(batch, G.z_dim, device=device)
        y = torch.randint(0, nc, (batch,), device=device) if nc else None
        with torch.no_grad():
            fake = G(z, y=y)
        d_loss = F.softplus(-D(real, y=y_real)["adv"]).mean() + F.softplus(D(fake, y=y)["adv"]).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        z = torch.randn(batch, G.z_dim, device=device)
        y = torch.randint(0, nc, (batch,), device=device) if nc else None
        g_loss = F.softplus(-D(G(z, y=y), y=y)["adv"]).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        d_loss.item(), g_loss.item()  # a training loop that logs reads its losses

    for _ in range(3):
        step()
    return _timed(step, batch, steps, device)


def _timed(step, batch: int, steps: int, device, budget_s: float = 4.0) -> float:
    """Real images per second over ``steps`` steps, or fewer if they take longer than ``budget_s``."""
    _sync(device)
    t0 = time.perf_counter()
    done = 0
    while done < steps and (done < 3 or time.perf_counter() - t0 < budget_s):
        step()
        done += 1
    _sync(device)
    return done * batch / (time.perf_counter() - t0)


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    parser.add_argument("--only", default="", help="comma-separated subset of backbone names")
    parser.add_argument("--out", default="runs/bench/bench_train.json")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from ganlab.core.processes import process_state

    device = process_state().device
    rows = []
    for name, backbone, options, shape, nc in BACKBONES:
        if args.only and name not in args.only.split(","):
            continue
        ds = _dataset(shape, nc)
        trainer_ips, hand_ips = [], []
        for _ in range(args.rounds):
            hand_ips.append(time_hand_loop(backbone, options, ds, args.batch, args.steps, device))
            trainer_ips.append(time_trainer(backbone, options, ds, args.batch, args.steps, device))
        t, h = statistics.median(trainer_ips), statistics.median(hand_ips)
        rows.append(
            {
                "backbone": name,
                "preset": backbone,
                "batch": args.batch,
                "device": str(device),
                "trainer_img_s": round(t, 1),
                "hand_img_s": round(h, 1),
                "ratio": round(t / h, 3),
            }
        )
        print(f"{name:8s} trainer {t:9.1f} img/s   hand {h:9.1f} img/s   ratio {t / h:.3f}", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    info = {"device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}
    out.write_text(json.dumps(info, indent=2))
    return info


if __name__ == "__main__":
    main()
