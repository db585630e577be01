"""Run by test_kill_resume.py: ``kill_resume_worker.py RUN_DIR METHOD MODE [PAUSE_STEP MARKER]``.

MODE ``fresh`` trains from the start (pausing after step PAUSE_STEP, when given: it writes MARKER and sleeps until
the test kills it); ``resume`` continues the run from its latest checkpoint. Under torchrun as well as alone.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from cross_rank_common import diagan_config, digits, gold_config


def config(method: str, out: str):
    """Dia-GAN: 8 steps, phase switch after step 3; GOLD: 2 epochs of 10 steps, re-weighting from step 10;
    StyleGAN2 (the 32-px CPU preset at its smoke size, on the bundled 5k MNIST): 8 steps, lazy R1 and path length
    every 2 steps, checkpoints every 2."""
    if method == "diagan":
        return diagan_config(out, steps=8), digits()
    if method == "stylegan2":
        from ganlab.core.train.config import load_experiment

        over = ["train.progress=false", "train.tensorboard=false", "train.log_speed=false", "data.name=mnist5k"]
        over += ["train.steps=8", "train.checkpoint_every=2", "train.sample_every=0", "train.log_every=1"]
        return load_experiment("stylegan2_32_cpu_mnist", over, "smoke"), None
    cfg, data = gold_config(out, epochs=2)
    cfg.train.checkpoint_every = 2
    return cfg, data


def main(run_dir: Path, method: str, mode: str, pause: int | None, marker: Path | None) -> None:
    torch.set_num_threads(1)
    from ganlab.core.train import Trainer

    cfg, data = config(method, str(run_dir.parent))
    trainer = Trainer(cfg, run_dir=run_dir, dataset=data, resume=mode == "resume")
    if pause is not None:
        step_end = trainer.method.on_step_end

        def on_step_end(run):
            step_end(run)
            if run.step == pause:  # every process says where it is, then waits to be killed
                Path(f"{marker}.{os.environ.get('RANK', '0')}").write_text(str(os.getpid()))
                time.sleep(600)

        trainer.method.on_step_end = on_step_end
    trainer.fit()


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        Path(args[0]),
        args[1],
        args[2],
        int(args[3]) if len(args) > 3 else None,
        Path(args[4]) if len(args) > 4 else None,
    )
