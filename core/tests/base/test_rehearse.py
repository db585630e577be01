"""Dress rehearsal of a paper config: the derivation (schedule kept in order and scaled, evaluation counts shrunk,
the rest untouched), the record behind ``ganlab repro list``, and stand-in weights loaded by the real extractor."""

from __future__ import annotations

import argparse
import copy
import itertools
import random

import pytest
import yaml

from ganlab.core import repro
from ganlab.core.config import load_config, read_yaml, select_scale
from ganlab.core.rehearse import derive_rehearsal, rehearsed, schedule_points

PAPER = {
    "seeds": [0, 1],
    "protocol": {
        "metrics": ["fid", "prdc"],
        "network": {"name": "inception_torchvision"},
        "n_fake": 50000,
        "reference": {"split": "train", "draw": "random", "n": 5000},
        "prdc": {"k": 5, "n_real": 10000, "n_fake": 10000},
        "checkpoint": {"choice": "best", "metric": "fid", "every": 10000},
    },
    "run": {
        "data": {"name": "cifar10"},
        "model": {"backbone": "biggan32", "options": {"ch": 96}},
        "optim": {"g_lr": 2.0e-4, "lr_decay": "linear", "lr_decay_start": 50000},
        "ema": {"enabled": True, "decay": 0.9999, "start": 1000},
        "train": {"steps": 100000, "batch_size": 64, "log_every": 100, "sample_every": 5000, "checkpoint_every": 10000},
        "eval": {"every": 10000, "n_fake": 10000, "metrics": ["fid"]},
        "method": {"name": "diagan", "options": {"phase1_steps": 80000, "record_every": 100, "window": 50, "k": 5.0}},
    },
}
RAW = {**copy.deepcopy(PAPER), "scales": {"smoke": {"run": {"train": {"steps": 2}}}, "paper": {}}}


def test_derivation_keeps_schedule_in_order_and_scaled_and_the_rest():
    got = derive_rehearsal(RAW, "diagan", steps=20, n_eval=32, batch=4, max_evals=2)
    # by hand: factor 20/100000; distinct paper points 100 < 1000 < 5000 < 10000 < 50000 < 80000 < 100000 map to
    # round(v/5000) = 0, 0, 1, 2, 10, 16, 20, made >= 1 and strictly increasing, with the periodic evaluation
    # (10000) raised to ceil(20 / 2) = 10 so it fires twice: 1, 2, 3, 10, 11, 16, 20. Dia-GAN's window of 50
    # records of 100 steps spans 5000 steps -> 3 steps -> 3 records of 1 step.
    want = copy.deepcopy(PAPER)
    want["seeds"] = [0]  # seed lists keep their first entry (seeds=1): repetitions of the same code path
    want["run"]["train"].update(steps=20, batch_size=4, log_every=1, sample_every=3, checkpoint_every=10)
    want["run"]["ema"]["start"] = 2
    want["run"]["optim"]["lr_decay_start"] = 11
    want["run"]["eval"].update(every=10, n_fake=32)
    want["run"]["method"]["options"].update(phase1_steps=16, record_every=1, window=3)
    want["protocol"].update(n_fake=32)
    want["protocol"]["reference"]["n"] = 32
    want["protocol"]["prdc"].update(n_real=32, n_fake=32)
    want["protocol"]["checkpoint"]["every"] = 10
    assert got == want


def test_derivation_without_the_package_leaves_its_undeclared_keys():
    got = derive_rehearsal(RAW, None, steps=20, batch=None)
    options = got["run"]["method"]["options"]
    # the generic rule scales *_every and *_steps; a count of records (window) needs the package's declaration
    assert options["window"] == 50 and options["record_every"] == 1 and options["phase1_steps"] == 16
    assert got["run"]["train"]["batch_size"] == 64  # batch=None keeps the paper's


def test_schedule_map_is_monotone_on_random_configs():
    rng = random.Random(0)
    for _ in range(200):
        total = rng.randint(10, 10**6)
        values = {f"k{i}_every": rng.randint(1, 2 * total) for i in range(rng.randint(1, 8))}
        raw = {"train": {"steps": total, **values}, "eval": {"every": rng.randint(1, total)}}
        steps = rng.randint(1, 50)
        got = derive_rehearsal(raw, steps=steps, max_evals=2)
        paper, rehearsal = schedule_points(raw), schedule_points(got)
        assert set(paper) == set(rehearsal)
        for a, b in itertools.combinations(paper, 2):
            if paper[a] < paper[b]:
                assert rehearsal[a] < rehearsal[b]
            elif paper[a] == paper[b]:
                assert rehearsal[a] == rehearsal[b]
        assert rehearsal[("train", "steps")] >= steps


def test_eval_counts_shrink_but_never_grow():
    raw = {"protocol": {"n_fake": 10, "prdc": {"n_real": 100000, "n_fake": None}}, "samples_per_class": 700}
    got = derive_rehearsal(raw, n_eval=64)
    assert got == {"protocol": {"n_fake": 10, "prdc": {"n_real": 64, "n_fake": None}}, "samples_per_class": 64}


def test_instance_selection_paper_derivation_validates():
    pytest.importorskip("ganlab.instance_selection")
    from ganlab.instance_selection.repro import CONFIGS, ISExperiment

    got = derive_rehearsal(read_yaml(CONFIGS / "table3.yaml"), "instance_selection", steps=24)
    paper = select_scale(read_yaml(CONFIGS / "table3.yaml"), "paper")
    spec = load_config(ISExperiment, base=got)
    assert spec.run["train"]["steps"] == 24 and spec.run["ema"]["start"] == 2  # log_every 100 -> 1, then 2000 -> 2
    assert spec.protocol.checkpoint.every == 12 and spec.run["train"]["checkpoint_every"] == 12  # equal stay equal
    assert spec.protocol.network.name == paper["protocol"]["network"]["name"]  # the paper's evaluation network
    assert spec.run["model"] == paper["run"]["model"] and len(spec.arms) == 10


def _toy(tmp_path, fail=False):
    cfg = tmp_path / "toy.yaml"
    cfg.write_text(yaml.safe_dump({"train": {"steps": 1000}, "scales": {"smoke": {}, "paper": {}}}))

    def run(path, scale, overrides, run_dir):
        assert scale == "paper"
        if fail:
            raise RuntimeError("broken")
        return [{"steps": read_yaml(path)["train"]["steps"]}]

    return repro.Experiment("toy", "pkg", "a toy", cfg, run, scales=("smoke", "paper"))


def _cli(argv):
    parser = argparse.ArgumentParser()
    repro.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_repro_list_says_rehearsed_only_after_a_pass(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    exps = {"pkg/toy": _toy(tmp_path, fail=True)}
    monkeypatch.setattr(repro, "all_experiments", lambda: exps)
    _cli(["repro", "list", "--cache-dir", str(cache)])
    assert "(not rehearsed)" in capsys.readouterr().out
    assert _cli(["repro", "rehearse", "pkg/toy", "--cache-dir", str(cache)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("fail") and "RuntimeError: broken" in out
    _cli(["repro", "list", "--cache-dir", str(cache)])
    assert "(not rehearsed)" in capsys.readouterr().out
    exps["pkg/toy"] = _toy(tmp_path)
    assert _cli(["repro", "rehearse", "--all", "--steps", "7", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out.startswith("pass")
    _cli(["repro", "list", "--cache-dir", str(cache)])
    out = capsys.readouterr().out
    assert "(rehearsed)" in out and "not rehearsed" not in out
    assert rehearsed(exps["pkg/toy"].config, cache)
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump({"train": {"steps": 2000}}))  # a changed paper config
    assert not rehearsed(exps["pkg/toy"].config, cache)


@pytest.mark.slow  # a 100 MB state written and hashed, ResNet-50 built: about 10 s idle, 30 s on a loaded machine
def test_missing_weights_get_a_stand_in_the_real_extractor_loads(tmp_path, monkeypatch):
    import torch

    from ganlab.core.features import weights
    from ganlab.core.features.extractors import get_extractor
    from ganlab.core.rehearse_assets import prepared

    monkeypatch.setenv(weights.WEIGHTS_ENV, str(tmp_path / "user"))  # the user's folder: empty
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    assert not weights.weights_present("resnet50")
    cfg = {"eval": {"extractor": "resnet50"}}
    with prepared(cfg, tmp_path / "cache") as (_, substituted):
        ext = get_extractor("resnet50")  # the ordinary lookup finds the stand-in; its pinned sha256 is not checked
        assert substituted == ["resnet50 weights (random values, the real keys and shapes)"]
        assert ext.weights_sha256 == weights.sha256_file(tmp_path / "cache" / "weights" / "resnet50-0676ba61.pth")
        assert ext(torch.rand(2, 3, 64, 64)).shape == (2, 2048)
    # outside the rehearsal nothing changed: the weights are still missing and a stand-in file is never accepted
    assert not weights.weights_present("resnet50")
    with pytest.raises(Exception, match="sha256"):
        get_extractor("resnet50", weights_path=tmp_path / "cache" / "weights" / "resnet50-0676ba61.pth")


@pytest.mark.slow  # 1000 stand-in classes through Inception-v3 at 299 on a CPU: tens of minutes
def test_instance_selection_table3_rehearsal_passes(tmp_path):
    pytest.importorskip("ganlab.instance_selection")
    from ganlab.core.rehearse import rehearse

    exp = repro.get_experiment("instance_selection/table3")
    result = rehearse("instance_selection/table3", exp, cache_dir=tmp_path, steps=24)
    assert result.status == "pass", result.error
    ph = result.phases
    assert ph["steps_reached"] == ph["min_steps_reached"] == ph["steps_planned"] == 24
    assert ph["trainings"] >= 10 and ph["checkpoints"] >= 10 and ph["evaluated"]
    assert rehearsed(exp.config, tmp_path)


def test_time_limit_ends_a_rehearsal_through_a_harness_that_catches_exceptions(tmp_path):
    import time

    from ganlab.core.rehearse import rehearse

    def run(path, scale, overrides, run_dir):
        for _ in range(100):  # like the harness: a failing arm is caught, the next one runs
            try:
                time.sleep(0.05)
            except Exception:
                pass
        return [{"done": 1}]

    exp = _toy(tmp_path)
    exp.run = run
    start = time.time()
    result = rehearse("pkg/toy", exp, cache_dir=tmp_path / "c", timeout_s=0.3)
    assert result.status == "fail" and "RehearsalTimeout: no result within 0.3 s" in result.error
    assert time.time() - start < 3
