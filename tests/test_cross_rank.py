"""What must hold across ranks (issue 21, item 4), each proved by a ``torchrun --nproc_per_node 2`` run on CPU (gloo)
against one process or a closed form:

- every instance's Dia-GAN LDR record reaches the tracker exactly once per recording pass, with the values one
  process computes from the same checkpoint;
- the weighted and class-balanced samplers shard without overlap, the ranks' union is the one-process stream, and
  the draws keep the weights' distribution (chi-squared);
- GOLD's per-example weights (eq. 4's running sigma ratio included) and IC-GAN's neighbour draws equal the one-process
  ones for the same instances and seed;
- checkpoints (and every other file of the run) are written by rank 0 only, once, with no temporary file left;
- the trainer's evaluation takes exactly the requested fakes, once; distributed extraction returns every fake once
  (no duplicate from the padded last batch);
- a 2-process run stopped and resumed equals an uninterrupted 2-process run (metrics.jsonl bytes, final weights).

One torchrun runs the fast tasks for the whole module (fixture ``report``); the resume task runs in its own (slow).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from cross_rank_common import diagan_config, digits, fixed_fakes, gold_config, icgan_config, perturb

pytestmark = pytest.mark.distributed
FAST_TASKS = ("samplers", "diagan", "gold", "icgan", "fakes")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two(out: Path, *tasks: str, timeout: int = 400) -> None:
    torchrun = [sys.executable, "-m", "torch.distributed.run"]  # this interpreter's torch, wherever its scripts lie
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [*torchrun, "--nproc_per_node", "2", "--master_port", str(_free_port()),
           str(Path(__file__).with_name("cross_rank_worker.py")), str(out), *tasks]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-4000:]


def load(out: Path, task: str) -> list[dict]:
    return [torch.load(out / f"{task}_rank{r}.pt", weights_only=False) for r in (0, 1)]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("cross_rank")
    run_two(out, *FAST_TASKS)
    return out


# ----------------------------------------------------------------------------------------------------- samplers
def _global(parts: list[np.ndarray]) -> np.ndarray:
    """The global stream from the ranks' (calls, k) draws: call c is rank 0's k items, then rank 1's."""
    return np.concatenate([np.concatenate([p[c] for p in parts]) for c in range(len(parts[0]))])


def test_samplers_shard_without_overlap_and_keep_their_distribution(report):
    from scipy.stats import chisquare

    from ganlab.core.data.samplers import InfiniteSampler, WeightedSampler
    from ganlab.icgan.data import class_balanced_weights

    r0, r1 = load(report, "samplers")
    labels = np.asarray(digits().labels)
    w = np.arange(1, 11, dtype=np.float64) ** 2
    one = {
        "weighted": WeightedSampler(w, seed=4),
        "class_balanced": WeightedSampler(class_balanced_weights(labels, 10), seed=5),
        "subset": InfiniteSampler(100, seed=6, indices=np.arange(5, 95, 3)),
    }
    for name, sampler in one.items():
        assert r0[name].shape == r1[name].shape == (40, 64)
        stream = _global([r0[name], r1[name]])
        # the ranks hold disjoint positions of one stream, whose union is what one process draws
        np.testing.assert_array_equal(stream, sampler.next_indices(len(stream)))
    # distributions against the weights, from the 2-process draws: instance weights ~ i^2
    counts = np.bincount(_global([r0["weighted"], r1["weighted"]]), minlength=10)
    assert chisquare(counts, counts.sum() * w / w.sum()).pvalue > 1e-3
    # class-balanced: every class equally likely (weights 1 / |class|), whatever the class sizes
    cls = np.bincount(labels[_global([r0["class_balanced"], r1["class_balanced"]])], minlength=10)
    assert len(set(np.bincount(labels, minlength=10))) > 1  # the classes really differ in size
    assert chisquare(cls).pvalue > 1e-3
    # a subset stream: each epoch of the union is a permutation of the pool (no instance twice, none missing)
    sub = _global([r0["subset"], r1["subset"]])
    pool = np.arange(5, 95, 3)
    for e in range(len(sub) // len(pool)):
        np.testing.assert_array_equal(np.sort(sub[e * len(pool) : (e + 1) * len(pool)]), pool)


# ------------------------------------------------------------------------------------------------------ Dia-GAN
def test_every_ldr_record_reaches_the_tracker_once_with_the_one_process_values(report, tmp_path):
    from ganlab.core.train.build import build_models
    from ganlab.diagan.ldr import evaluate_ldr, module_mode

    r0, r1 = load(report, "diagan")
    n = len(digits())
    # records at steps 1 and 2 (phase switch after 3): two passes, each instance evaluated by exactly one rank
    assert len(r0["passes"]) == len(r1["passes"]) == 2
    for a, b in zip(r0["passes"], r1["passes"]):
        np.testing.assert_array_equal(np.sort(np.concatenate([a, b])), np.arange(n))
    for r in (r0, r1):  # every rank's tracker holds the two records, complete
        assert r["tracker_count"] == 2
        np.testing.assert_array_equal(r["tracker_steps"], [1, 2])
        assert r["tracker_records"].shape == (2, n) and np.isfinite(r["tracker_records"]).all()
    np.testing.assert_array_equal(r0["tracker_records"], r1["tracker_records"])
    np.testing.assert_array_equal(r0["probs"], r1["probs"])
    # one process, the step-2 checkpoint's D (what rank 0 holds), every instance: the record at step 2
    state = torch.load(report / "diagan_run" / "checkpoints" / "step_00000002.pt", weights_only=False)
    cfg = diagan_config(str(tmp_path))
    _, D = build_models(cfg)
    D.load_state_dict(state["models"]["D"])
    with module_mode(D, train=False):
        one = evaluate_ldr(lambda b: D(b["image"])["adv"], digits(), batch_size=5)
    np.testing.assert_allclose(r0["tracker_records"][1], one, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------------------------------------- GOLD
def test_gold_weights_equal_the_one_process_weights(report, tmp_path):
    from ganlab.core.train import Trainer
    from ganlab.gold.estimator import d_heads, sample_weights

    r0, r1 = load(report, "gold")
    cfg, dataset = gold_config(str(tmp_path))
    run = Trainer(cfg, run_dir=tmp_path / "gold_one", dataset=dataset)
    G, D = run.unwrap(run.G).eval(), run.unwrap(run.D).eval()
    perturb(D, 11), perturb(G, 12)
    for b in range(3):  # the same global batches, whole, through one process
        z, y = fixed_fakes(100 + b, 16, run.z_dim, run.num_classes)
        with torch.no_grad():
            adv, cls = d_heads(D(G(z, y=y), y=y), run.num_classes)
        w = sample_weights(run.method.gold_of(run, adv, cls, y)["gold"], 1.0).numpy()
        np.testing.assert_allclose(np.concatenate([r0["weights"][b], r1["weights"][b]]), w, rtol=1e-5, atol=1e-6)
    run.close()
    for r in (r0, r1):  # eq. 4's running moments saw all 48 samples on every rank
        assert r["balance"]["n"] == run.method.balance.n == 48
        np.testing.assert_allclose(r["balance"]["m2"], run.method.balance.m2, rtol=1e-6)
    assert run.method.balance.m2.min() > 1e-3 and abs(run.method.balance.ratio - 1) > 1e-3  # eq. 4 really scales


# ------------------------------------------------------------------------------------------------------- IC-GAN
def test_icgan_neighbour_draws_equal_the_one_process_draws(report, tmp_path):
    from ganlab.core.train import Trainer

    r0, r1 = load(report, "icgan")
    run = Trainer(icgan_config(str(tmp_path)), run_dir=tmp_path / "icgan_one", dataset=digits())
    sampler = run.sampler_of("main")
    for c in range(4):  # one process draws the global batch of 8; the ranks held its halves
        sampler.next_indices(8)
        d = sampler.last
        for key, v in zip(("image", "instance", "feat_flip", "image_flip"),
                          (d.image_idx, d.instance_idx, d.feat_flip, d.image_flip)):  # fmt: skip
            np.testing.assert_array_equal(np.concatenate([r0["real"][key][c], r1["real"][key][c]]), v, err_msg=key)
        f = run.method.draws.fake(8)
        np.testing.assert_array_equal(np.concatenate([r0["fake"]["instance"][c], r1["fake"]["instance"][c]]),
                                      f.instance_idx)  # fmt: skip
    run.close()


# ------------------------------------------------------------------------------------------- files and metrics
def test_checkpoints_and_run_files_are_written_by_rank_zero_once(report):
    import json

    r0, r1 = load(report, "diagan")
    assert r1["writes"] == [], r1["writes"]  # rank 1 never opens a file of the run for writing
    ckpts = [p for p in r0["writes"] if p.startswith("/checkpoints/step_")]
    assert sorted(ckpts) == ["/checkpoints/step_00000002.pt", "/checkpoints/step_00000004.pt"]  # renamed once each
    run = report / "diagan_run"
    left = [p.name for p in run.rglob("*") if p.name.endswith(".tmp") or p.name == ".lock"]
    assert left == []
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "checkpoint"] == [2, 4]


def test_evaluation_takes_every_requested_fake_exactly_once(report):
    import json

    r0, r1 = load(report, "diagan")
    assert r0["fakes_extracted"] == [10, 10] and r1["fakes_extracted"] == []  # steps 2 and 4, on rank 0 only
    records = [json.loads(x) for x in (report / "diagan_run" / "metrics.jsonl").read_text().splitlines()]
    fid = [r for r in records if r.get("metric") == "fid"]
    assert [(r["step"], r["n_fake"]) for r in fid] == [(2, 10), (4, 10)]
    # distributed extraction: 10 fakes in batches of 4 over 2 ranks -> batches 0, 2 on rank 0 and 1 on rank 1
    f0, f1 = load(report, "fakes")
    made = f0["made"] + f1["made"]
    assert len(made) == 10 and len(set(made)) == 10  # the generators were asked for 10 images in all
    np.testing.assert_array_equal(f0["ids"], f1["ids"])
    assert sorted(f0["ids"].tolist()) == sorted(made)  # each fake once, no padding copy


# ------------------------------------------------------------------------------------------------------- resume
@pytest.mark.slow
def test_two_process_resume_equals_an_uninterrupted_two_process_run(tmp_path):
    run_two(tmp_path, "resume")
    full, part = tmp_path / "resume_full", tmp_path / "resume_part"
    assert (full / "metrics.jsonl").read_bytes() == (part / "metrics.jsonl").read_bytes()
    a = torch.load(full / "checkpoints" / "step_00000006.pt", weights_only=False)
    b = torch.load(part / "checkpoints" / "step_00000006.pt", weights_only=False)
    for name in ("G", "D", "aux_d"):
        for k, v in a["models"][name].items():
            assert torch.equal(v, b["models"][name][k]), (name, k)
    for run in (full, part):
        assert not [p for p in run.rglob("*") if p.name.endswith(".tmp") or p.name == ".lock"]


# ----------------------------------------------------------------------------------------------------- boosting
@pytest.mark.slow
def test_boosting_weights_are_written_once_and_equal_the_one_process_weights(tmp_path):
    from ganlab.core.nn.classifiers import resnet20
    from ganlab.multigan_boosting.boost import compute_weights, selected_generator

    run_two(tmp_path, "boost")
    r0, r1 = load(tmp_path, "boost")
    assert r1["writes"] == [], r1["writes"]  # rank 1 writes neither the weights nor any run file
    assert r0["writes"].count("/weights_1.npy") == 1
    saved = np.load(tmp_path / "boost" / "weights_1.npy")
    for r in (r0, r1):  # GAN 0 uniform; GAN 1 samples, on every rank, from the file's probabilities
        assert r["probs"][0] is None
        np.testing.assert_array_equal(r["probs"][1], saved)
    # one process, from GAN 0's exported generator: Algorithm 1 gives the same weights
    from ganlab.core.config import load_config
    from ganlab.core.data import get_dataset
    from ganlab.core.train.config import ExperimentConfig, resolve_config

    cfg = load_config(ExperimentConfig, resolve_config("biggan32_cifar_multigan"), scale="smoke")
    torch.manual_seed(0)
    net = resnet20(num_classes=10, in_channels=1, width=4).eval()
    data = get_dataset(cfg.data.name, resolution=cfg.data.resolution)
    batch = data.get_batch(np.arange(len(data)))
    gan0 = selected_generator(tmp_path / "boost" / "gan_0")
    one = compute_weights(batch["image"], batch["label"], [gan0], net, "B", n_per_gan=200, seed=cfg.seed + 1)
    np.testing.assert_allclose(one.probs, saved, rtol=1e-6, atol=1e-12)
