"""Cost of the finite check a checkpoint goes through before it is written, next to the cost of writing it.

The check (``ganlab.core.train.checkpoint.check_finite_state``) covers every parameter, buffer, EMA tensor and Adam
moment with one fused max-abs reduction per dtype; the write is ``torch.save`` of the same state to memory (what
``atomic_save`` serialises before its fsync). Paper-size models: SNGAN CIFAR-10 (Dia-GAN) and BigGAN 128 ch 64
(instance selection Table 2).

    python benchmarks/speed/bench_checkpoint.py [--models sngan32_cifar,biggan128_ch64_is] [--rounds 3]

Writes runs/bench/bench_checkpoint.json.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path

import torch

from ganlab.core.nn import build_backbone, count_parameters
from ganlab.core.train.checkpoint import check_finite_state
from ganlab.core.train.ema import EMA


def state_of(name: str) -> tuple[dict, int]:
    G, D = build_backbone(name)
    state: dict = {"models": {"G": G.state_dict(), "D": D.state_dict()}, "optimizers": {}}
    for key, model in (("G", G), ("D", D)):
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        for p in model.parameters():  # one step's worth of moments, as after training
            p.grad = torch.randn_like(p) * 1e-3
        opt.step()
        state["optimizers"][key] = opt.state_dict()
    state["ema"] = EMA(G).state_dict()
    return state, count_parameters(G) + count_parameters(D)


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="sngan32_cifar,biggan128_ch64_is")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default="runs/bench/bench_checkpoint.json")
    a = p.parse_args()
    rows = []
    for name in a.models.split(","):
        state, params = state_of(name)
        check = timed(lambda s=state, n=name: check_finite_state(s, n), a.rounds)
        write = timed(lambda s=state: torch.save(s, io.BytesIO()), a.rounds)
        rows.append({"model": name, "params": params, "check_s": check, "save_s": write, "ratio": check / write})
        print(f"{name:22s} {params / 1e6:7.2f}M params  check {check:.3f} s  save {write:.3f} s  "
              f"check/save {check / write:.2f}")  # fmt: skip
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": torch.get_num_threads(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
