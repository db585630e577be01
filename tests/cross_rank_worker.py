"""Run by test_cross_rank.py under ``torchrun --nproc_per_node 2`` (gloo, CPU): ``cross_rank_worker.py OUT TASK...``.

Each task writes ``OUT/TASK_rank{r}.pt`` (a dict of arrays and facts) for the test to compare with one process.
"""

from __future__ import annotations

import builtins
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))
from cross_rank_common import diagan_config, digits, fixed_fakes, gold_config, icgan_config, perturb

RANK = int(os.environ.get("RANK", "0"))


def _save(out: Path, task: str, report: dict) -> None:
    torch.save(report, out / f"{task}_rank{RANK}.pt")


# ------------------------------------------------------------------------------------------------ file writes
class WriteLog:
    """Every open-for-writing and rename under ``root`` by this process (the checkpoint-once invariant)."""

    def __init__(self, root: Path) -> None:
        self.root, self.paths = str(root.resolve()), []
        self._open, self._os_open, self._replace = builtins.open, os.open, os.replace

    def _note(self, path, writing: bool) -> None:
        p = os.path.abspath(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else ""
        if writing and p.startswith(self.root):
            self.paths.append(p[len(self.root) :])

    def __enter__(self) -> WriteLog:
        log = self

        def open_(file, mode="r", *a, **k):
            log._note(file, any(c in mode for c in "wax+"))
            return log._open(file, mode, *a, **k)

        def os_open(path, flags, *a, **k):
            log._note(path, bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)))
            return log._os_open(path, flags, *a, **k)

        def replace(src, dst, *a, **k):
            log._note(dst, True)
            return log._replace(src, dst, *a, **k)

        builtins.open, os.open, os.replace = open_, os_open, replace
        return self

    def __exit__(self, *exc) -> None:
        builtins.open, os.open, os.replace = self._open, self._os_open, self._replace


# ------------------------------------------------------------------------------------------------------ tasks
def samplers(out: Path) -> None:
    """Weighted and class-balanced samplers: this rank's draws, 40 calls of 64 (the test rebuilds the global one)."""
    from ganlab.core.data.samplers import InfiniteSampler, WeightedSampler
    from ganlab.icgan.data import class_balanced_weights

    world = dist.get_world_size()
    w = np.arange(1, 11, dtype=np.float64) ** 2
    labels = np.asarray(digits().labels)
    cb = class_balanced_weights(labels, 10)
    pool = np.arange(5, 95, 3)
    report = {}
    for name, s in (
        ("weighted", WeightedSampler(w, seed=4, rank=RANK, world_size=world)),
        ("class_balanced", WeightedSampler(cb, seed=5, rank=RANK, world_size=world)),
        ("subset", InfiniteSampler(100, seed=6, rank=RANK, world_size=world, indices=pool)),
    ):
        report[name] = np.stack([s.next_indices(64) for _ in range(40)])
    _save(out, "samplers", report)


def diagan(out: Path) -> None:
    """A 2-process Dia-GAN run: LDR passes (who evaluated what), the tracker, every file this rank wrote, and the
    fakes of the trainer's evaluation."""
    import ganlab.core.features as features
    import ganlab.diagan.method as dm
    from ganlab.core.train import Trainer

    cfg = diagan_config(str(out), steps=4)
    cfg.eval.metrics, cfg.eval.every, cfg.eval.n_fake, cfg.eval.n_real = ["fid"], 2, 10, 20
    cfg.eval.extractor, cfg.eval.options = "random:lenet", {"batch_size": 4, "cache_dir": False}
    passes: list[np.ndarray] = []
    evaluate_ldr = dm.evaluate_ldr

    def logged(forward, dataset, indices=None, **kw):
        passes.append(np.asarray(indices).copy())
        return evaluate_ldr(forward, dataset, indices, **kw)

    extracted: list[int] = []
    extract = features.extract_features

    def counted(extractor, source, **kw):
        rows = extract(extractor, source, **kw)
        if callable(source) and not torch.is_tensor(source) and not hasattr(source, "get_batch"):
            extracted.append(len(rows))  # fakes only
        return rows

    dm.evaluate_ldr, features.extract_features = logged, counted
    run_dir = out / "diagan_run"
    with WriteLog(run_dir) as writes:
        trainer = Trainer(cfg, run_dir=run_dir, dataset=digits())
        trainer.fit()
    dm.evaluate_ldr, features.extract_features = evaluate_ldr, extract
    steps, records = trainer.method.tracker.held_records()
    _save(
        out,
        "diagan",
        {
            "passes": passes,
            "tracker_steps": steps,
            "tracker_records": np.asarray(records).copy(),
            "tracker_count": trainer.method.tracker.count,
            "writes": writes.paths,
            "fakes_extracted": extracted,
            "probs": trainer.method.probs,
        },
    )


def gold(out: Path) -> None:
    """GOLD's eq.-4 weights of a fixed global fake batch, this rank's half, over three D-step updates."""
    from ganlab.core.train import Trainer
    from ganlab.gold.estimator import d_heads, sample_weights

    cfg, dataset = gold_config(str(out / "gold_run"))
    run = Trainer(cfg, run_dir=out / "gold_run", dataset=dataset)
    world = dist.get_world_size()
    G, D = run.unwrap(run.G).eval(), run.unwrap(run.D).eval()
    perturb(D, 11), perturb(G, 12)
    weights = []
    for b in range(3):
        z, y = fixed_fakes(100 + b, 16, run.z_dim, run.num_classes)
        mine = slice(RANK * 16 // world, (RANK + 1) * 16 // world)
        with torch.no_grad():
            adv, cls = d_heads(D(G(z[mine], y=y[mine]), y=y[mine]), run.num_classes)
        terms = run.method.gold_of(run, adv, cls, y[mine])
        weights.append(sample_weights(terms["gold"], 1.0).numpy())
    run.close()
    _save(out, "gold", {"weights": np.stack(weights), "balance": run.method.balance.state_dict()})


def icgan(out: Path) -> None:
    """IC-GAN's real-branch neighbour draws and fake conditionings of this rank, four calls of 4."""
    from ganlab.core.train import Trainer

    cfg = icgan_config(str(out))
    run = Trainer(cfg, run_dir=out / "icgan_run", dataset=digits())
    sampler = run.sampler_of("main")
    real = {"image": [], "instance": [], "feat_flip": [], "image_flip": []}
    fake = {"instance": [], "feat_flip": []}
    for _ in range(4):
        sampler.next_indices(4)
        d = sampler.last
        for key, v in zip(real, (d.image_idx, d.instance_idx, d.feat_flip, d.image_flip)):
            real[key].append(v)
        f = run.method.draws.fake(4)
        fake["instance"].append(f.instance_idx)
        fake["feat_flip"].append(f.feat_flip)
    run.close()
    _save(out, "icgan", {"real": {k: np.stack(v) for k, v in real.items()},
                         "fake": {k: np.stack(v) for k, v in fake.items()}})  # fmt: skip


def resume(out: Path) -> None:
    """Dia-GAN (phase switch in the resumed half) under 2 processes: 6 steps in one go, and 2 + a resume for 4."""
    from ganlab.core.train import Trainer

    cfg = diagan_config(str(out), steps=6)
    Trainer(cfg, run_dir=out / "resume_full", dataset=digits()).fit()
    Trainer(cfg, run_dir=out / "resume_part", dataset=digits()).fit(stop_at=2)
    Trainer(cfg, run_dir=out / "resume_part", dataset=digits(), resume=True).fit()


def fakes(out: Path) -> None:
    """Distributed feature extraction of an identifiable generator: 10 fakes in batches of 4 (the last one padded)."""
    from ganlab.core.features import extract_features
    from ganlab.core.features.extractors import FeatureExtractor

    class Corner(FeatureExtractor):  # the first two pixels, which encode each fake's id
        name, dim, channels = "corner", 2, None

        def embed(self, x):
            return x[:, 0, 0, :2]

    made: list[int] = []

    def gen(k: int) -> torch.Tensor:
        ids = [RANK * 100 + len(made) + i for i in range(k)]
        made.extend(ids)
        x = torch.full((k, 1, 8, 8), -1.0)
        for row, i in enumerate(ids):
            x[row, 0, 0, 0], x[row, 0, 0, 1] = (i // 256) / 127.5 - 1, (i % 256) / 127.5 - 1
        return x

    rows = extract_features(Corner(), gen, n=10, batch_size=4, device="cpu", progress=False, distributed=True)
    ids = np.rint((rows + 1) * 127.5).astype(np.int64)
    _save(out, "fakes", {"ids": ids[:, 0] * 256 + ids[:, 1], "made": made})


def boost(out: Path) -> None:
    """Two boosted GANs under 2 processes: the weights file of GAN 1, the probabilities GAN 1 sampled from, and every
    file this rank wrote."""
    import ganlab.multigan_boosting.boost as mb
    from ganlab.core.config import load_config
    from ganlab.core.nn.classifiers import resnet20
    from ganlab.core.train.config import ExperimentConfig, resolve_config

    cfg = load_config(ExperimentConfig, resolve_config("biggan32_cifar_multigan"), scale="smoke")
    cfg.out_dir, cfg.train.progress, cfg.train.steps, cfg.train.checkpoint_every = str(out), False, 2, 2
    torch.manual_seed(0)
    net = resnet20(num_classes=10, in_channels=1, width=4).eval()
    used: list[np.ndarray] = []
    sampler = mb.ReweightedGAN.sampler

    def recorded(self, run):
        used.append(None if self.probs is None else self.probs.copy())
        return sampler(self, run)

    mb.ReweightedGAN.sampler = recorded
    with WriteLog(out / "boost") as writes:
        mb.train_boosted(cfg, 2, out / "boost", net, "B", n_per_gan=200)
    mb.ReweightedGAN.sampler = sampler
    _save(out, "boost", {"writes": writes.paths, "probs": used})


TASKS = {
    "samplers": samplers,
    "diagan": diagan,
    "gold": gold,
    "icgan": icgan,
    "resume": resume,
    "fakes": fakes,
    "boost": boost,
}


def main(out: Path, tasks: list[str]) -> None:
    torch.set_num_threads(1)
    from accelerate import PartialState

    PartialState(cpu=True)  # the process group the trainer's Accelerator joins (gloo)
    for task in tasks:
        TASKS[task](out)
        dist.barrier()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
