"""Run by test_distributed.py under ``torchrun --nproc_per_node 2``: full run vs stop + resume, on gloo/CPU."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from ganlab.core.train import Trainer
from ganlab.core.train.config import load_experiment


def main(out: Path, config: str) -> None:
    torch.set_num_threads(1)
    over = ["train.progress=false", "train.tensorboard=false", "train.steps=4", "train.checkpoint_every=2"]
    cfg = load_experiment(config, over, "smoke")
    full = Trainer(cfg, run_dir=out / "full")
    full.fit()
    part = Trainer(cfg, run_dir=out / "part")
    part.fit(stop_at=2)
    resumed = Trainer(cfg, run_dir=out / "part", resume=True)
    start = resumed.step
    resumed.fit()
    same = all(
        torch.equal(a, b)
        for name in ("G", "D")
        for a, b in zip(
            full.unwrap(full.models[name]).state_dict().values(),
            resumed.unwrap(resumed.models[name]).state_dict().values(),
        )
    )
    state = torch.load(resumed.checkpoints()[-1], weights_only=False)
    report = {
        "rank": resumed.rank,
        "world_size": resumed.world_size,
        "resumed_from": start,
        "step": resumed.step,
        "identical": same,
        "saved_world_size": state["world_size"],
        "saved_rng_streams": len(state["rng"]),
        "d_batch": resumed.d_batch,
        "positions": [s["main"]["state"]["position"] for s in state["streams"]],
    }
    (out / f"rank{resumed.rank}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
