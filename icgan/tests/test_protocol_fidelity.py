"""The evaluation protocol of the reproductions follows the paper and the official code: torchvision Inception
without transform_input for the PyTorch-FID rows, a seeded random P/R/D/C reference, the TF graph's bilinear resize
for the TF rows, the best-training-FID checkpoint, class-balanced ImageNet-LT conditionings, long-tailed baseline
labels, as many samples as each reference split has images, and the transf. / BigGAN ch64 + DA (d) arms."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from ganlab.icgan import evaluate as ev
from ganlab.icgan.repro import EXPERIMENTS, arm_config, load
from ganlab.icgan.repro_eval import (
    Trained,
    apply_instance_draw,
    baseline_label_probs,
    eval_extractor,
    protocol_fields,
    sample_fn,
)

RUNNABLE = sorted(n for n, e in EXPERIMENTS.items() if not e.status)
PYTORCH_FID = ("table1_imagenet64", "figure4")  # the paper's * rows: PyTorch Inception
TF_ROWS = (
    "table1_imagenet128",
    "table1_imagenet256",
    "table2_coco128",
    "table2_coco256",
    "table3_imagenet64",
    "table3_imagenet128",
    "table3_imagenet256",
    "table4_imagenet_lt64",
)


def _paper(name: str):
    return load(EXPERIMENTS[name].config, "paper")


# ------------------------------------------------------------------------------------ 1. transform_input
def _tv_transform_input(x: torch.Tensor) -> torch.Tensor:
    """torchvision's transform_input written out: ImageNet-normalised input to the Google weights' [-1, 1]."""
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    return torch.cat([x[:, c : c + 1] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5 for c in range(3)], 1)


def test_pytorch_fid_rows_use_inception_without_transform_input():
    from ganlab.icgan.repro_eval import extractor_options

    for name in PYTORCH_FID:
        p = _paper(name).experiment
        assert p.extractor == "inception_torchvision" and p.transform_input is False
        assert extractor_options(p)["transform_input"] is False and protocol_fields(p)["transform_input"] is False
    # the rows' network with their options, random weights (no download), a small input size to stay fast
    off = eval_extractor(_paper("table1_imagenet64").experiment, "random:inception", image_size=75).eval()
    assert off.net.transform_input is False and off.options["transform_input"] is False
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        f_off = off(x)
        f_hand = off.net(_tv_transform_input(off._prepare(x)))
        off.net.transform_input = True  # the same weights with torchvision's default for the Google weights
        f_on = off(x)
    # the flag matters: the features differ, and True equals False after torchvision's transform written out
    assert not torch.allclose(f_on, f_off, atol=1e-4)
    torch.testing.assert_close(f_on, f_hand, atol=1e-4, rtol=1e-4)


# ------------------------------------------------------------------------------------ 2. P/R/D/C reference
def test_prdc_reference_is_a_seeded_random_draw_over_classes():
    labels = np.repeat(np.arange(10), 500)  # a class-sorted reference, as ImageNet val in class order
    idx = ev.draw_reference(len(labels), 1000, "random", seed=7)
    assert np.array_equal(idx, np.random.default_rng(7).permutation(len(labels))[:1000])
    assert np.array_equal(idx, ev.draw_reference(len(labels), 1000, "random", seed=7))
    assert not np.array_equal(idx, ev.draw_reference(len(labels), 1000, "random", seed=8))
    counts = np.bincount(labels[idx], minlength=10)
    assert set(labels[idx].tolist()) == set(range(10))
    assert chisquare(counts).pvalue > 1e-3  # proportional to the (uniform) class sizes
    # the old rule: the first n of a class-sorted split hold two classes only
    assert set(labels[ev.draw_reference(len(labels), 1000, "first")].tolist()) == {0, 1}
    for name in RUNNABLE:
        assert _paper(name).experiment.reference_draw == "random"


# ------------------------------------------------------------------------------------ 3. TF bilinear resize
def test_tf_rows_resize_with_the_tf1_bilinear_resize():
    from ganlab.core.features.resize import tf1_resize_bilinear

    f = torch.tensor([0.0, 10.0, 20.0, 40.0])
    g = torch.tensor([1.0, 2.0, 4.0, 8.0])
    x = torch.outer(f, g)[None, None]  # separable, so the bilinear resize is the outer product of 1-D resizes
    # TF1 (align_corners=False, no half-pixel): output i samples input i * 4/6 = 0, 2/3, 4/3, 2, 8/3, 10/3 (clamped)
    f6 = torch.tensor([0.0, 20 / 3, 40 / 3, 20.0, 100 / 3, 40.0])
    g6 = torch.tensor([1.0, 5 / 3, 8 / 3, 4.0, 20 / 3, 8.0])
    out = tf1_resize_bilinear(x, 6)
    torch.testing.assert_close(out[0, 0], torch.outer(f6, g6), atol=1e-5, rtol=1e-5)
    half_pixel = torch.nn.functional.interpolate(x, size=(6, 6), mode="bilinear", align_corners=False)
    assert not torch.allclose(out, half_pixel, atol=1e-3)  # torch's (half-pixel) bilinear is another resize
    for name in TF_ROWS:
        p = _paper(name).experiment
        assert p.extractor == "inception" and p.resize == "tf_bilinear" and p.resize_size == 299
        ext = eval_extractor(p, "random:lenet")  # the rows' resize in front of a tiny network
        assert ext.resize == "tf_bilinear(299)" and ext.protocol()["resize"] == "tf_bilinear(299)"
        assert protocol_fields(p)["resize_rule"] == "tf_bilinear"


# ------------------------------------------------------------------------------------ 4. best checkpoint
def test_best_checkpoint_is_the_lowest_training_fid_step(tiny, tmp_path):
    from ganlab.icgan.repro import train

    cfg = tiny.config(tmp_path, steps=4)
    fids = {1: 5.0, 2: 3.0, 3: 4.0, 4: 6.0}  # the scripted training FID per step: best at step 2
    snaps: dict[int, dict[str, torch.Tensor]] = {}

    def score(trainer) -> float:
        snaps[trainer.step] = copy.deepcopy(trainer.G_ema.state_dict())
        return fids[trainer.step]

    run = train(cfg, best=(1, score))
    assert sorted(snaps) == [1, 2, 3, 4]
    assert run.best["best_step"] == 2 and run.best["best_fid_train"] == 3.0 and run.best["last_eval_step"] == 4
    got = run.G.state_dict()
    assert any(not torch.equal(snaps[2][k], snaps[4][k]) for k in snaps[2])  # the steps' generators differ
    assert all(torch.equal(got[k].cpu(), snaps[2][k].cpu()) for k in snaps[2])  # the reported G is step 2's
    for name in RUNNABLE:
        p = _paper(name).experiment
        assert p.checkpoint == "best" and p.best_every >= 1


def test_training_fid_monitor_draws_over_all_training_instances():
    from ganlab.icgan.features import InstanceFeatures
    from ganlab.icgan.neighbours import Neighbourhoods
    from ganlab.icgan.repro_eval import TrainingInstances

    rng = np.random.default_rng(0)
    feats = InstanceFeatures.from_arrays(rng.normal(size=(50, 4)))
    idx = np.stack([(np.arange(50) + j) % 50 for j in (1, 2, 3)], 1)
    nb = Neighbourhoods(idx, np.ones((50, 3), np.float32), feats.fingerprint)
    labels = np.arange(50) % 7
    src = TrainingInstances(SimpleNamespace(features=feats, neighbourhoods=nb), labels)
    pos, lab = src.draw(50000, np.random.default_rng(1))
    assert chisquare(np.bincount(pos, minlength=50)).pvalue > 1e-3  # uniform over all 50 instances
    ok = [(lab == labels[(pos + j) % 50]) for j in (1, 2, 3)]
    assert np.all(np.any(ok, 0))  # each label is one of the instance's neighbours' labels
    torch.testing.assert_close(src.conditioning(pos[:5]), feats.get(pos[:5]))


# ------------------------------------------------------------------------------------ 5. LT conditionings
def _long_tail() -> np.ndarray:
    counts = [600, 250, 90, 40, 12, 5]
    return np.concatenate([np.full(n, c) for c, n in enumerate(counts)])


def test_lt_conditionings_are_drawn_class_balanced():
    from ganlab.icgan.instances import StoredInstances

    labels = _long_tail()
    n = len(labels)
    stored = StoredInstances(np.random.default_rng(0).normal(size=(n, 4)), indices=np.arange(n))
    counts_of = {}
    for how in ("class_balanced", "uniform"):
        drawn = apply_instance_draw(stored, how, labels)
        pos, _ = drawn.draw(60000, np.random.default_rng(1))
        counts_of[how] = np.bincount(labels[drawn.indices[pos]], minlength=6)
    assert chisquare(counts_of["class_balanced"]).pvalue > 1e-3  # uniform over the classes
    train_freq = np.bincount(labels) / n
    assert chisquare(counts_of["uniform"], train_freq * 60000).pvalue > 1e-3  # the old draw is still offered
    assert chisquare(counts_of["uniform"]).pvalue < 1e-12
    assert _paper("table4_imagenet_lt64").experiment.instance_draw == "class_balanced"


# ------------------------------------------------------------------------------------ 6. LT baseline labels
class _LabelG(torch.nn.Module):
    z_dim, num_classes, uses_class_input = 2, 6, True

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, z, y=None):
        self.seen.append(y.cpu())
        return torch.zeros(len(z), 1, 2, 2)


def test_lt_baseline_labels_follow_the_training_distribution():
    cfg = _paper("table4_imagenet_lt64")
    assert cfg.experiment.label_draw == "train_distribution"
    baseline = [a for a in cfg.experiment.arms if a.run["method"]["name"] == "icgan_baseline"]
    assert [a.name for a in baseline] == ["biggan"]
    labels = _long_tail()
    G = _LabelG()
    trainer = SimpleNamespace(
        G_ema=G, device="cpu", method=SimpleNamespace(name="icgan_baseline"), dataset=SimpleNamespace(labels=labels)
    )
    run = Trained(trainer)
    probs = baseline_label_probs(SimpleNamespace(cfg=cfg), run)
    fn = sample_fn(run, None, 0, label_p=probs)
    for _ in range(30):
        fn(2000)
    counts = np.bincount(torch.cat(G.seen).numpy(), minlength=6)
    assert chisquare(counts, np.bincount(labels) / len(labels) * counts.sum()).pvalue > 1e-3
    assert chisquare(counts).pvalue < 1e-12  # not the uniform labels of before


# ------------------------------------------------------------------------------------ 7./8. splits, arms
def test_each_reference_split_gets_as_many_samples_as_images(tmp_path):
    from ganlab.core.results import RunDir
    from ganlab.icgan.repro import arm_instances, train
    from ganlab.icgan.repro_eval import Context, evaluate_run

    # the COCO-Stuff smoke protocol: the training split capped at 40 images, a second split of 24 ("again")
    cfg = load(
        EXPERIMENTS["table2_coco128"].config, "smoke", ["experiment.checkpoint=last", "experiment.metrics=[fid]"]
    )
    p = cfg.experiment
    assert p.n_fake == "reference" and p.instance_set == "reference" and p.extra_references[0]["n_real"] == 24
    ctx = Context(cfg, RunDir(tmp_path / "exp"))
    arm = next(a for a in p.arms if a.name == "icgan")
    run = train(arm_config(cfg, arm, 0, tmp_path / "runs"))
    rec = evaluate_run(ctx, run, arm_instances(ctx, run, arm), 0, arm="icgan_seed0")
    assert rec["n_fake_rule"] == "reference"
    assert rec["n_real"] == 40 and rec["n_fake"] == 40  # the training split
    assert rec["n_real_again"] == 24 and rec["n_fake_again"] == 24  # the second, smaller split: its own count
    assert rec["stored_again"] == 24  # sampled from that split's own 24 images' features
    for name in ("table2_coco128", "table2_coco256", "table4_imagenet_lt64"):
        assert _paper(name).experiment.n_fake == "reference"
    assert _paper("table2_coco128").experiment.instance_set == "reference"


def test_paper_tables_have_the_transfer_and_biggan_ch64_da_arms():
    for name, res in (("table2_coco128", 128), ("table2_coco256", 256)):
        cfg = _paper(name)
        arms = {a.name: a for a in cfg.experiment.arms}
        assert arms["icgan_transf"].transfer and not arms["icgan"].transfer
        ecfg = arm_config(cfg, arms["icgan_transf"], 0, Path("."))
        assert ecfg.data.name == "imagenet" and ecfg.data.resolution == res and not ecfg.data.options
        assert ecfg.method.options["k"] == 50 and ecfg.model.backbone == f"icgan{res}_ch96"
    cfg = _paper("table3_imagenet256")
    arms = {a.name: a for a in cfg.experiment.arms}
    da = arm_config(cfg, arms["biggan_ch64_da"], 0, Path("."))
    assert da.model.backbone == "biggan256_ch64" and da.method.name == "icgan_baseline"
    assert da.method.options["hflip"] is True and da.optim.d_lr == pytest.approx(4e-4)
    assert "biggan_ch64_da" in [a.name for a in load(EXPERIMENTS["table3_imagenet256"].config, "smoke").experiment.arms]
    smoke = {a.name: a for a in load(EXPERIMENTS["table2_coco128"].config, "smoke").experiment.arms}
    assert smoke["icgan_transf"].transfer  # runs in test_repro's smoke (trained on mnist5k, sampled from digits)
