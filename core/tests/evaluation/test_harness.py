"""The reproduction harness: arms x seeds, the checkpoint rule, evaluation as the protocol says, resume, failures."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from train_testutils import TinyD, TinyG, tiny_dataset

from ganlab.core.config import from_dict
from ganlab.core.evaluation.draws import reference_indices
from ganlab.core.repro_harness import Harness, Hooks, ReproError, ReproSpec, aggregate
from ganlab.core.results import RunDir

TRAIN = {"batch_size": 8, "log_every": 2, "sample_every": 0, "checkpoint_every": 0, "sample_grid": 0}


def _spec(arms=("a", "b"), seeds=(0, 1), steps=4, **protocol):
    run = {"train": {**TRAIN, "steps": steps}}
    proto = {"metrics": ["fid"], "network": {"name": "random:lenet"}, "resize": {"method": "none", "size": None}}
    proto.update(protocol)
    arms = [
        {"name": a, "info": {"ratio": 10.0 * (i + 1)}, "run": {"optim": {"g_lr": 1e-3 * (i + 1)}}}
        for i, a in enumerate(arms)
    ]
    return from_dict(ReproSpec, {"protocol": proto, "arms": arms, "seeds": list(seeds), "run": run})


class TinyHooks(Hooks):
    def __init__(self, shape=(1, 8, 8), fail=None, interrupt=None):
        self.shape, self.fail, self.interrupt, self.trained = shape, fail, interrupt, []

    def dataset(self, h):
        return tiny_dataset(n=64, shape=self.shape)

    def models(self, h, arm, seed, cfg):
        return lambda: (TinyG(shape=self.shape), TinyD(shape=self.shape))

    def configure(self, h, arm, seed, cfg):
        if (arm.name, seed) == self.interrupt:
            raise KeyboardInterrupt  # the process is killed here
        if (arm.name, seed) == self.fail:
            raise RuntimeError("out of memory")
        self.trained.append((arm.name, seed))
        return None

    def finish(self, h, per_seed, records):
        return records  # no figures in most tests


def _records(run_path, name):
    return json.loads((run_path / "records" / f"{name}.json").read_text())["records"]


def _fake_evaluate(calls):
    """FID = a function of G's weights (training changes it, the same seed repeats it); periodic calls by step."""

    def evaluate(G, dataset, *, metrics, **kw):
        calls.append(kw)
        with torch.no_grad():
            value = float(sum(p.double().abs().sum() for p in G.parameters()))
        return [{"metric": "fid", "value": value, "resize": "none", "weights_sha256": "x"}]

    return evaluate


def test_resume_after_a_kill_trains_only_the_missing_seeds(tmp_path, monkeypatch):
    monkeypatch.setattr("ganlab.core.metrics.evaluate.evaluate", _fake_evaluate([]))
    full = Harness(_spec(), RunDir(tmp_path / "full"), TinyHooks()).run()

    killed = TinyHooks(interrupt=("a", 1))
    with pytest.raises(KeyboardInterrupt):
        Harness(_spec(), RunDir(tmp_path / "part"), killed).run()
    assert killed.trained == [("a", 0), ("b", 0)]
    again = TinyHooks()
    resumed = Harness(_spec(), RunDir(tmp_path / "part"), again).run()
    assert again.trained == [("a", 1), ("b", 1)]  # seed 0 was read back, not retrained
    assert resumed == full
    assert [r["arm"] for r in full] == ["a", "b"] and full[0]["seeds"] == 2 and full[0]["ratio"] == 10.0
    per_seed = [_records(tmp_path / "full", f"a_seed{s}")[0] for s in (0, 1)]
    fids = np.array([r["fid"] for r in per_seed])
    assert full[0]["fid"] == pytest.approx(fids.mean()) and full[0]["fid_std"] == pytest.approx(fids.std(ddof=1))
    assert per_seed[0]["eval_network"] == "random:lenet" and per_seed[0]["step"] == 4


def test_one_failing_seed_leaves_the_others_written_and_names_itself(tmp_path, monkeypatch):
    monkeypatch.setattr("ganlab.core.metrics.evaluate.evaluate", _fake_evaluate([]))
    run_dir = RunDir(tmp_path / "r")
    with pytest.raises(ReproError, match=r"1 of 4 runs failed.*\n  arm 'b' seed 1: RuntimeError: out of memory$"):
        Harness(_spec(), run_dir, TinyHooks(fail=("b", 1))).run()
    assert sorted(p.name for p in (run_dir.path / "records").iterdir()) == [
        "a_seed0.json",
        "a_seed1.json",
        "b_seed0.json",
    ]
    results = json.loads((run_dir.path / "results.json").read_text())
    assert [(r["arm"], r["seeds"]) for r in results] == [("a", 2), ("b", 1)]
    assert [e["arm"] for e in run_dir.read_events() if e["event"] == "arm_failed"] == ["b"]
    hooks = TinyHooks()
    Harness(_spec(), run_dir, hooks).run()  # the retry trains only the failed pair
    assert hooks.trained == [("b", 1)]
    changed = _spec()
    changed.protocol.n_fake = 123  # saved records of another protocol are not reused
    with pytest.raises(ReproError, match=r"(?s)4 of 4 runs failed.*computed under another protocol or config"):
        Harness(changed, run_dir, TinyHooks()).run()


def test_best_checkpoint_and_patience(tmp_path, monkeypatch):
    fids = iter([40.0, 12.0, 30.0, 35.0, 50.0, 60.0])
    periodic = []

    def evaluate(G, dataset, *, metrics, **kw):
        if "run_dir" in kw:  # the trainer's periodic evaluation
            periodic.append(kw["n_fake"])
            return [{"metric": "fid", "value": next(fids)}]
        return [{"metric": "fid", "value": 1.0, "resize": "none"}]

    monkeypatch.setattr("ganlab.core.metrics.evaluate.evaluate", evaluate)
    spec = _spec(
        arms=("a",), seeds=(0,), steps=12, checkpoint={"choice": "best", "every": 2, "patience": 2, "n_fake": 7}
    )
    h = Harness(spec, RunDir(tmp_path / "r"), TinyHooks())
    h.run()
    assert periodic == [7, 7, 7, 7]  # steps 2, 4, 6, 8: two evaluations without improvement after step 4
    (rec,) = _records(tmp_path / "r", "a_seed0")
    assert rec["step"] == 4 and rec["checkpoint"] == "best" and rec["eval_select_mode"] == "min"
    both = _spec(arms=("a",), seeds=(0,), steps=4, checkpoint={"choice": "best_and_last", "every": 2})
    fids = iter([5.0, 9.0])
    h = Harness(both, RunDir(tmp_path / "both"), TinyHooks())
    h.run()
    recs = _records(tmp_path / "both", "a_seed0")
    assert [(r["checkpoint"], r["step"]) for r in recs] == [("last", 4), ("best", 2)]
    events = RunDir(tmp_path / "r" / "runs" / "a_seed0").read_events()
    assert [e["step"] for e in events if e["event"] == "early_stop"] == [8]


def test_evaluation_follows_the_protocol(tmp_path):
    """Real evaluation (a random LeNet): FID and P/R/D/C against hand-drawn reference subsets."""
    from ganlab.core.data import subset
    from ganlab.core.features import extract_features, get_extractor
    from ganlab.core.metrics.fid import fid_from_features
    from ganlab.core.metrics.prdc import prdc
    from ganlab.core.metrics.sources import generator_image_fn
    from ganlab.core.train.checkpoint import load_generator

    shape = (1, 28, 28)
    proto = {
        "metrics": ["fid", "prdc"],
        "n_fake": "reference",
        "reference": {"n": 40, "draw": "random", "seed": 5},
        "prdc": {"k": 3, "n_real": 20, "n_fake": 16, "seed": 5},
        "batch_size": 8,
    }
    spec = _spec(arms=("a",), seeds=(3,), steps=2, **proto)
    hooks = TinyHooks(shape=shape)
    hooks.finish = Hooks.finish.__get__(hooks)  # the default finish: bar figures
    run_dir = RunDir(tmp_path / "r")
    (rec,) = Harness(spec, run_dir, hooks).run()
    assert (rec["n_real"], rec["n_fake"]) == (40, 40)
    assert (run_dir.path / "figure_fid.png").is_file() and (run_dir.path / "per_seed.csv").is_file()

    ds = tiny_dataset(n=64, shape=shape)
    ref = subset(ds, np.sort(np.random.default_rng(5).permutation(64)[:40]))
    G = load_generator(run_dir.path / "runs" / "a_seed3" / "G_ema.pt")[0]
    ext = get_extractor("random:lenet")
    real = extract_features(ext, ref, batch_size=8, progress=False)
    fake = extract_features(ext, generator_image_fn(G, 3, torch.device("cpu")), n=40, batch_size=8, progress=False)
    assert rec["fid"] == pytest.approx(fid_from_features(real, fake), rel=1e-5)
    sub = np.sort(np.random.default_rng(5).permutation(40)[:20])
    np.testing.assert_array_equal(sub, reference_indices(40, "random", 20, 5))
    expected = prdc(real[sub], fake[:16], k=3)
    for name in ("precision", "recall", "density", "coverage"):
        assert rec[name] == pytest.approx(expected[name], rel=1e-5)


def test_aggregate_matches_numpy():
    rows = [{"arm": "x", "seed": s, "fid": f, "tag": "t"} for s, f in enumerate([3.0, 5.0, 10.0])]
    rows.append({"arm": "y", "seed": 0, "fid": 7.0, "tag": "u"})
    out = aggregate(rows, ("arm",), ["fid"])
    assert out[0] == {"arm": "x", "tag": "t", "seeds": 3, "fid": 6.0, "fid_std": float(np.std([3, 5, 10], ddof=1))}
    assert out[1]["fid_std"] == 0.0 and out[1]["seeds"] == 1
    assert aggregate(rows, ("arm",), ["fid"], columns=["arm"])[1] == {
        "arm": "y",
        "seeds": 1,
        "fid": 7.0,
        "fid_std": 0.0,
    }


def test_repro_show_prints_the_protocol_through_the_cli(tmp_path, monkeypatch, capsys):
    import yaml

    from ganlab.core import repro
    from ganlab.core.cli import main
    from ganlab.core.repro import Experiment, protocol_from_config

    cfg = tmp_path / "exp.yaml"
    body = {
        "protocol": {"n_fake": 50000, "checkpoint": {"choice": "best", "every": 2000}},
        "scales": {"smoke": {"protocol": {"n_fake": 64}}, "paper": {}},
    }
    cfg.write_text(yaml.safe_dump(body))
    declared = Experiment("t1", "pkg", "Table 1", cfg, lambda *a: [], protocol=protocol_from_config(cfg))
    legacy = Experiment("t2", "pkg", "Table 2", cfg, lambda *a: [])
    monkeypatch.setattr(repro, "all_experiments", lambda: {"pkg/t1": declared, "pkg/t2": legacy})

    assert main(["repro", "show", "pkg/t1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pkg/t1 (paper): Table 1\nMetrics FID on inception features")
    assert "50000 fakes against all real images" in out and "every 2000 steps" in out
    assert main(["repro", "show", "pkg/t1", "--scale", "smoke"]) == 0
    assert "64 fakes against all real images" in capsys.readouterr().out
    assert main(["repro", "show", "pkg/t2"]) == 0
    assert "protocol of pkg/t2 is not yet declared in core" in capsys.readouterr().out
    assert main(["repro", "show", "pkg/t3"]) == 2
    assert "did you mean" in capsys.readouterr().err
    cfg.write_text(yaml.safe_dump({"protocol": {"n_fak": 3}}))
    assert main(["repro", "show", "pkg/t1", "--scale", "mini"]) == 2
    assert "unknown config key 'protocol.n_fak'" in capsys.readouterr().err


def test_class_conditional_generators_get_the_protocols_label_draw(tmp_path, monkeypatch):
    from ganlab.core.evaluation.conditioning import ConditionedGenerator
    from ganlab.core.evaluation.draws import draw_labels

    fed = []

    def evaluate(G, dataset, *, metrics, **kw):
        fed.append(G)
        return [{"metric": "fid", "value": 0.0, "resize": "none"}]

    monkeypatch.setattr("ganlab.core.metrics.evaluate.evaluate", evaluate)

    class Conditional(TinyHooks):
        def models(self, h, arm, seed, cfg):
            return lambda: (TinyG(shape=self.shape, num_classes=10), TinyD(shape=self.shape))

    cond = {"labels": "train_distribution", "seed_offset": 100}
    spec = _spec(arms=("a",), seeds=(2,), steps=2, n_fake=30, conditioning=cond)
    Harness(spec, RunDir(tmp_path / "r"), Conditional()).run()
    (G,) = fed
    assert isinstance(G, ConditionedGenerator)
    labels = tiny_dataset(n=64).labels
    np.testing.assert_array_equal(G.labels.numpy(), draw_labels(30, "train_distribution", 102, 10, labels))


def test_requirements_read_the_protocols_network(tmp_path, monkeypatch):
    import yaml

    from ganlab.core.repro import Experiment, requirements

    cfg = tmp_path / "exp.yaml"
    body = {"protocol": {"network": {"name": "inception_torchvision"}}, "scales": {"smoke": {}, "paper": {}}}
    body["scales"]["smoke"]["protocol"] = {"network": {"name": "random:lenet"}}
    cfg.write_text(yaml.safe_dump(body))
    monkeypatch.setattr("ganlab.core.features.weights.weights_present", lambda name: name != "inception_torchvision")
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    exp = Experiment("t", "pkg", "T", cfg, lambda *a: [])
    assert requirements(exp, "paper") == ["inception_torchvision weights"]
    assert requirements(exp, "smoke") == []


class PhasedHooks(TinyHooks):
    """Arm b starts from arm a's checkpoint at step 2 (kept by a's own fit), as Dia-GAN's phase 2 does."""

    def __init__(self):
        super().__init__()
        self.seen = {}

    def trainer_options(self, h, arm, seed, cfg):
        return {"init_from": h.run_dir.path / "kept.pt"} if arm.name == "b" else {}

    def fit(self, h, arm, seed, trainer):
        import shutil

        if arm.name == "a":
            trainer.fit(stop_at=2)
            shutil.copyfile(trainer._last_ckpt, h.run_dir.path / "kept.pt")
            self.seen["a_at_2"] = {k: v.clone() for k, v in trainer.G.state_dict().items()}
        else:
            self.seen["b_start"] = {k: v.clone() for k, v in trainer.G.state_dict().items()}
        trainer.fit()
        self.seen[f"{arm.name}_end"] = int(trainer.step)


def test_hooks_pass_trainer_options_and_fit(tmp_path, monkeypatch):
    monkeypatch.setattr("ganlab.core.metrics.evaluate.evaluate", _fake_evaluate([]))
    hooks = PhasedHooks()
    Harness(_spec(seeds=(0,)), RunDir(tmp_path / "r"), hooks).run()
    assert hooks.seen["a_end"] == 4 and hooks.seen["b_end"] == 4
    for k, v in hooks.seen["a_at_2"].items():  # b's generator starts from a's step-2 weights
        assert torch.equal(hooks.seen["b_start"][k], v), k


def test_tf_bilinear_goes_through_the_resized_network(tmp_path):
    """FID with resize tf_bilinear: the features of the TF1 resize + the network, computed here by hand."""
    from ganlab.core.features import extract_features, get_extractor
    from ganlab.core.features.resize import resized_extractor
    from ganlab.core.metrics.fid import fid_from_features
    from ganlab.core.metrics.sources import generator_image_fn

    spec = _spec(resize={"method": "tf_bilinear", "size": 32}, n_fake=20)  # 8 px up to the LeNet's 32
    h = Harness(spec, RunDir(tmp_path / "r"), TinyHooks()).prepare()
    torch.manual_seed(0)
    G = TinyG(shape=(1, 8, 8))
    rec = h.evaluate(G, 3)
    ext = resized_extractor(get_extractor("random:lenet"), "tf_bilinear", 32)
    real = extract_features(ext, h.dataset, batch_size=100, progress=False)
    fake = extract_features(ext, generator_image_fn(G, 3, "cpu"), n=20, batch_size=100, progress=False)
    assert rec["n_fake"] == 20 and rec["fid"] == pytest.approx(fid_from_features(real, fake), rel=1e-6)


class ScoredHooks(TinyHooks):
    """The package scores checkpoints itself: a scripted FID per step, best at step 2."""

    scores_checkpoints = True

    def checkpoint_score(self, h, arm, seed, trainer):
        self.snaps = {}

        def score(t):
            self.snaps[t.step] = {k: v.clone() for k, v in t.G_ema.state_dict().items()}
            return {1: 5.0, 2: 3.0, 3: 4.0, 4: 6.0}[t.step]

        return score

    def evaluate(self, h, arm, seed, G, trainer):
        same = all(torch.equal(G.state_dict()[k].cpu(), v) for k, v in self.snaps[2].items())
        return [{"is_step2": float(same), "evals": len(self.snaps)}]


def test_a_package_scored_checkpoint_picks_its_best_step(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("ganlab.core.metrics.evaluate.evaluate", _fake_evaluate(calls))
    spec = _spec(arms=("a",), seeds=(0,), checkpoint={"choice": "best", "metric": "fid", "every": 1})
    h = Harness(spec, RunDir(tmp_path / "r"), ScoredHooks()).prepare()
    assert h.train_config(spec.arms[0], 0).eval.every == 0  # the trainer's own evaluation is not run
    [rec] = h.run_one(spec.arms[0], 0)
    assert rec["checkpoint"] == "best" and rec["step"] == 2 and rec["is_step2"] == 1.0 and rec["evals"] == 4
    assert not calls
    logged = [r for r in RunDir(tmp_path / "r" / "runs" / "a_seed0").read_metrics() if r.get("metric") == "fid"]
    assert [(r["step"], r["value"]) for r in logged] == [(1, 5.0), (2, 3.0), (3, 4.0), (4, 6.0)]
