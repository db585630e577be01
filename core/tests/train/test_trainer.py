"""The training loop: exact resume, hooks, accumulation, LR decay, divergence and checkpoint errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from train_testutils import TinyD, TinyG, tiny_cfg, tiny_dataset

from ganlab.core.errors import CheckpointError, ConfigError, RegistryError, ShapeError, TrainingDivergedError
from ganlab.core.train import METHODS, Method, Trainer
from ganlab.core.train.build import build_method
from ganlab.core.train.config import MethodConfig
from ganlab.core.train.trainer import lr_factor


def _trainer(tmp_path, name="r", resume=False, method=None, bn=False, sn=False, dropout=0.0, **over):
    cfg = tiny_cfg(tmp_path, **over)
    return Trainer(
        cfg,
        method,
        run_dir=tmp_path / name,
        dataset=tiny_dataset(),
        models=lambda: (TinyG(bn=bn), TinyD(sn=sn, dropout=dropout)),
        resume=resume,
    )


def _same_state(a: Trainer, b: Trainer) -> None:
    for name in a.models:
        sa, sb = a.unwrap(a.models[name]).state_dict(), b.unwrap(b.models[name]).state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), f"{name}.{k} differs"
    if a.ema is not None:
        for (k, x), (_, y) in zip(a.ema.model.state_dict().items(), b.ema.model.state_dict().items()):
            assert torch.equal(x, y), f"EMA {k} differs"


@pytest.mark.parametrize(
    "kind",
    [dict(bn=True), dict(sn=True, dropout=0.3)],
    ids=["batchnorm", "spectralnorm+dropout"],
)
def test_resume_is_bit_identical(tmp_path, kind):
    over = dict(ema__enabled=True, ema__start=2, ema__decay=0.9, optim__n_dis=2, optim__lr_decay="linear", **kind)
    full = _trainer(tmp_path, "full", **over)
    full.fit()
    part = _trainer(tmp_path, "part", **over)
    part.fit(stop_at=3)
    assert part.step == 3 and part.checkpoints()[-1].name == "step_00000003.pt"
    resumed = _trainer(tmp_path, "part", resume=True, **over)
    assert resumed.step == 3
    resumed.fit()
    assert resumed.step == full.step == 6
    _same_state(full, resumed)
    # and the optimisers
    for name in full.optimizers:
        sa, sb = full.optimizers[name].state_dict()["state"], resumed.optimizers[name].state_dict()["state"]
        assert all(torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) for i in sa)


def test_resume_refuses_a_changed_config(tmp_path):
    _trainer(tmp_path).fit(stop_at=2)
    with pytest.raises(CheckpointError, match=r"optim\.g_lr: 0\.0002 -> 0\.001") as err:
        _trainer(tmp_path, resume=True, optim__g_lr=1e-3)
    assert "--allow-config-change" in str(err.value)
    t = Trainer(
        tiny_cfg(tmp_path, optim__g_lr=1e-3),
        run_dir=tmp_path / "r",
        dataset=tiny_dataset(),
        models=lambda: (TinyG(), TinyD()),
        resume=True,
        allow_config_change=True,
    )
    assert t.step == 2
    # keys that do not change the trajectory may change freely
    assert _trainer(tmp_path, resume=True, train__log_every=1, train__keep_last=5).step == 2


def test_corrupt_checkpoint(tmp_path):
    t = _trainer(tmp_path)
    t.fit(stop_at=2)
    path = t.checkpoints()[-1]
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(CheckpointError, match=r"corrupt"):
        _trainer(tmp_path, resume=True)
    (tmp_path / "x.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        _trainer(tmp_path, "other", resume=tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="not found"):
        _trainer(tmp_path, "other", resume=tmp_path / "missing.pt")


class _NaNAt(Method):
    name = "nan_at_4"

    def g_loss(self, run, fake):
        loss, logs = super().g_loss(run, fake)
        return (loss * float("nan") if run.step == 3 else loss), logs


def test_nan_loss_stops_with_the_last_checkpoint_intact(tmp_path):
    t = _trainer(tmp_path, method=_NaNAt(), train__checkpoint_every=2)
    with pytest.raises(TrainingDivergedError, match=r"G loss became nan at step 4.*step_00000002\.pt"):
        t.fit()
    assert [p.name for p in t.checkpoints()] == ["step_00000002.pt"]
    resumed = _trainer(tmp_path, resume=True, method=_NaNAt(), train__checkpoint_every=2)
    assert resumed.step == 2
    events = [r.get("event") for r in t.run_dir.read_events()]
    assert "diverged" in events


def test_deferred_divergence_check_never_checkpoints_bad_weights(tmp_path):
    # On accelerators the finiteness of losses is read at log/checkpoint time (no sync per step): a flag raised
    # since the last check must stop training before a checkpoint is written.
    t = _trainer(tmp_path, train__checkpoint_every=2)
    t.fit(stop_at=2)
    t.guard._pending = {"D": torch.tensor(False), "G": torch.tensor(True)}
    with pytest.raises(TrainingDivergedError, match=r"G loss became non-finite between steps 3 and 2"):
        t.save_checkpoint()
    assert [p.name for p in t.checkpoints()] == ["step_00000002.pt"]
    t.guard._pending = {"D": torch.tensor(False)}
    t.save_checkpoint()  # a clean flag lets the checkpoint through


def test_keep_last_and_samples(tmp_path):
    t = _trainer(tmp_path, train__checkpoint_every=1, train__keep_last=2, train__sample_every=3)
    t.fit()
    assert [p.name for p in t.checkpoints()] == ["step_00000005.pt", "step_00000006.pt"]
    assert sorted(p.name for p in t.run_dir.samples.iterdir()) == ["step_00000003.png", "step_00000006.png"]
    from PIL import Image

    img = Image.open(t.run_dir.samples / "step_00000006.png")
    assert img.size[0] > 8 and img.size[1] > 8  # a 2x2 grid of 8x8 images with padding
    records = [r for r in t.run_dir.read_metrics() if "d_loss" in r]
    assert [r["step"] for r in records] == [2, 4, 6]
    assert all(np.isfinite(r["g_loss"]) for r in records)
    assert (t.run_dir.path / "config.yaml").exists()


def test_gradient_accumulation_matches_the_full_batch(tmp_path):
    # Without BN the mean over two half-batches equals the full-batch mean: same data, same noise stream.
    a = _trainer(tmp_path, "a", train__steps=2)
    a.fit()
    b = _trainer(tmp_path, "b", train__steps=2, optim__d_accum=2, optim__g_accum=2)
    assert b.d_batch == 4 and b.g_batch == 4
    b.fit()
    for name in a.models:
        for x, y in zip(a.unwrap(a.models[name]).parameters(), b.unwrap(b.models[name]).parameters()):
            assert torch.allclose(x, y, atol=1e-6)
    with pytest.raises(ConfigError, match="divisible"):
        _trainer(tmp_path, "c", optim__d_accum=3)


def test_lr_decay():
    assert lr_factor(0, 10, "linear", 0) == 1.0
    assert lr_factor(5, 10, "linear", 0) == 0.5
    assert lr_factor(3, 10, "linear", 4) == 1.0
    assert lr_factor(7, 10, "linear", 4) == pytest.approx(0.5)
    assert lr_factor(7, 10, "none", 0) == 1.0


def test_orthogonal_regularisation_changes_g_only(tmp_path):
    a = _trainer(tmp_path, "a", train__steps=1)
    a.fit()
    b = _trainer(tmp_path, "b", train__steps=1, optim__orth_reg=0.5)
    b.fit()
    assert any(not torch.equal(x, y) for x, y in zip(a.unwrap(a.G).parameters(), b.unwrap(b.G).parameters()))
    assert all(torch.equal(x, y) for x, y in zip(a.unwrap(a.D).parameters(), b.unwrap(b.D).parameters()))


def test_lr_follows_the_schedule(tmp_path):
    t = _trainer(tmp_path, optim__lr_decay="linear", train__steps=4)
    t.fit()
    records = [r for r in t.run_dir.read_metrics() if "lr_G" in r]
    # lr at the last logged step (4) was set for step index 3: 2e-4 * (1 - 3/4)
    assert records[-1]["lr_G"] == pytest.approx(2e-4 * 0.25)


class _Recorder(Method):
    """Checks the hook order and the run API (extra model, extra stream, set_sampler, optimize, log)."""

    name = "recorder"

    def __init__(self, options=None):
        super().__init__(options)
        self.calls = []
        self.count = 0

    def setup(self, run):
        from ganlab.core.data.samplers import InfiniteSampler

        self.calls.append("setup")
        run.add_model("aux", TinyD(), lr=1e-3, betas=(0.5, 0.999))
        run.add_stream("extra", InfiniteSampler(len(run.dataset), seed=5))

    def next_real(self, run):
        self.calls.append("next_real")
        return super().next_real(run)

    def after_d_step(self, run, real, fake):
        self.calls.append("after_d_step")
        batch = run.next_batch("extra")
        loss = run.loss.d_real(self.d_forward(run, batch, module=run.models["aux"])["adv"]).mean()
        run.optimize("aux", loss)

    def g_loss(self, run, fake):
        self.calls.append("g_loss")
        return super().g_loss(run, fake)

    def on_step_end(self, run):
        self.calls.append(f"end{run.step}")
        self.count += 1
        run.log({"recorder/count": self.count})

    def state_dict(self):
        return {"count": self.count}

    def load_state_dict(self, state):
        self.count = state["count"]


def test_hooks_order_and_run_api(tmp_path):
    m = _Recorder()
    t = _trainer(tmp_path, method=m, train__steps=2, optim__n_dis=2)
    before = [p.clone() for p in t.models["aux"].parameters()]
    t.fit()
    assert m.calls[0] == "setup"
    step = ["next_real", "after_d_step", "next_real", "after_d_step", "g_loss"]
    assert m.calls[1:] == step + ["end1"] + step + ["end2"]
    assert any(not torch.equal(a, b) for a, b in zip(before, t.models["aux"].parameters()))
    assert t.sampler_of("extra").position == 2 * 2 * 8  # n_dis * steps * batch
    assert t.epoch == pytest.approx(2 * 2 * 8 / 96)
    assert [r["recorder/count"] for r in t.run_dir.read_metrics() if "recorder/count" in r] == [1.5]
    m2 = _Recorder()
    t2 = _trainer(tmp_path, method=m2, resume=True, train__steps=2, optim__n_dis=2)
    assert m2.count == 2 and t2.sampler_of("extra").position == 32
    assert "aux" in torch.load(t.checkpoints()[-1], weights_only=False)["models"]


def test_init_from_another_run(tmp_path):
    a = _trainer(tmp_path, "phase1", train__steps=3)
    a.fit()
    ckpt = a.checkpoints()[-1]
    cfg = tiny_cfg(tmp_path, train__steps=5)
    cfg.method = MethodConfig(name="topk")
    b = Trainer(
        cfg, run_dir=tmp_path / "phase2", dataset=tiny_dataset(), models=lambda: (TinyG(), TinyD()), init_from=ckpt
    )
    assert b.step == 3 and b.method.name == "topk" and b.init_state["step"] == 3
    for x, y in zip(a.unwrap(a.G).parameters(), b.unwrap(b.G).parameters()):
        assert torch.equal(x, y)
    assert b.sampler_of("main").position == 0  # a fresh sampler: only weights, optimisers and step carry over
    b.fit()
    assert b.step == 5


def test_build_method_and_bad_names(tmp_path):
    assert build_method(MethodConfig("topk", {"decay": 0.9})).options.decay == 0.9
    with pytest.raises(ConfigError, match="method.options"):
        build_method(MethodConfig("topk", {"decay_rate": 0.9}))
    with pytest.raises(RegistryError, match="unknown method 'tpok'"):
        build_method(MethodConfig("tpok"))
    with pytest.raises(ConfigError, match="loss.name: 'hingee' is not one of"):  # checked before anything is built
        _trainer(tmp_path, loss__name="hingee")
    assert "vanilla" in METHODS


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_runs(tmp_path, precision):
    t = _trainer(tmp_path, train__mixed_precision=precision, train__steps=2)
    t.fit()
    assert t.scalers["G"].is_enabled() == (precision == "fp16")
    assert t.scalers["G"] is not t.scalers["D"]
    assert all(torch.isfinite(p).all() for p in t.unwrap(t.G).parameters())


def test_config_dataclass_extensions_are_optional():
    from ganlab.core.train.config import OptimConfig, TrainConfig

    names = {f.name for f in dataclasses.fields(OptimConfig)}
    assert {"g_betas", "d_betas"} <= names and OptimConfig().g_betas is None
    assert TrainConfig().tensorboard is False  # opt-in: it needs the tensorboard package (warned once if missing)


def test_no_sample_grid_and_shape_probe(tmp_path):
    t = _trainer(tmp_path, train__sample_grid=0, train__sample_every=1, train__steps=2)
    t.fit()
    assert not t.run_dir.samples.exists()  # no grid was written, so no (empty) samples folder either
    with pytest.raises(ShapeError, match=r"samples of shape \(B, 1, 8, 8\).*got \(2, 1, 4, 4\)"):
        Trainer(
            tiny_cfg(tmp_path),
            run_dir=tmp_path / "bad",
            dataset=tiny_dataset(),
            models=lambda: (TinyG(shape=(1, 4, 4)), TinyD()),
        )


class _ClsD(torch.nn.Module):
    """adv + cls heads (an ACGAN discriminator)."""

    def __init__(self, classes=10):
        super().__init__()
        self.num_classes, self.class_input = classes, False
        self.body = torch.nn.Linear(64, 16)
        self.adv, self.cls = torch.nn.Linear(16, 1), torch.nn.Linear(16, classes)

    def forward(self, x, y=None, feat=None):
        h = torch.relu(self.body(x.flatten(1)))
        return {"adv": self.adv(h)[:, 0], "cls": self.cls(h)}


def test_acgan_class_loss_equals_the_hand_computation(tmp_path):
    cfg = tiny_cfg(tmp_path, loss__class_weight=0.5)
    t = Trainer(cfg, run_dir=tmp_path / "ac", dataset=tiny_dataset(),
                models=lambda: (TinyG(num_classes=10), _ClsD()))  # fmt: skip
    real = t.next_batch()
    fake = t.method.sample_fake(t, len(real["image"]))
    loss, logs = t.method.d_loss(t, real, fake)
    D = t.unwrap(t.D)
    o_r, o_f = D(real["image"]), D(fake["image"].detach())
    F = torch.nn.functional
    adv = F.softplus(-o_r["adv"]).mean() + F.softplus(o_f["adv"]).mean()  # non-saturating D loss
    cls = F.cross_entropy(o_r["cls"], real["label"]) + F.cross_entropy(o_f["cls"], fake["label"])
    torch.testing.assert_close(loss, adv + 0.5 * cls)
    g_loss, _ = t.method.g_loss(t, fake)
    o = D(fake["image"])
    torch.testing.assert_close(g_loss, F.softplus(-o["adv"]).mean() + 0.5 * F.cross_entropy(o["cls"], fake["label"]))
    t.fit()
    assert all("d_class_loss" in r for r in t.run_dir.read_metrics() if "d_loss" in r)
    with pytest.raises(ShapeError, match="'cls' head"):
        Trainer(
            cfg, run_dir=tmp_path / "no_cls", dataset=tiny_dataset(), models=lambda: (TinyG(num_classes=10), TinyD())
        )
    with pytest.raises(ShapeError, match="class-conditional G"):
        Trainer(cfg, run_dir=tmp_path / "uncond", dataset=tiny_dataset(), models=lambda: (TinyG(), _ClsD()))


def test_config_yaml_records_the_method_object_that_trained(tmp_path):
    import yaml

    from ganlab.core.train.topk import TopKMethod, TopKOptions

    trainer = _trainer(tmp_path, "topk", method=TopKMethod(TopKOptions(decay=0.9, min_fraction=0.25)))
    trainer.fit()
    saved = yaml.safe_load((tmp_path / "topk" / "config.yaml").read_text())
    assert saved["method"] == {"name": "topk", "options": {"decay": 0.9, "min_fraction": 0.25}}

    class Mine(Method):  # an unregistered subclass is recorded by its import path, never as "vanilla"
        pass

    _trainer(tmp_path, "mine", method=Mine()).fit()
    saved = yaml.safe_load((tmp_path / "mine" / "config.yaml").read_text())
    assert saved["method"]["name"].endswith("test_config_yaml_records_the_method_object_that_trained.<locals>.Mine")
    # resuming with the same object is not a config change
    again = _trainer(tmp_path, "topk", resume=True, method=TopKMethod(TopKOptions(decay=0.9, min_fraction=0.25)))
    assert again.step == trainer.step
