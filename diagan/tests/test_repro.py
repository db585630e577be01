"""Every reproduction experiment: configs load at every scale, and each runs at smoke scale."""

from __future__ import annotations

import math

import pytest

from ganlab.core.config import SCALES
from ganlab.core.errors import ConfigError
from ganlab.core.repro import all_experiments, run_experiment
from ganlab.diagan.repro import EXPERIMENTS, aggregate, load_repro_config

# image experiments train SNGAN-type nets and extract features: minutes on a loaded 2-core CPU
SLOW = {
    "table3_stylegan2_ffhq",
    "table2_sngan_cifar10",
    "table2_ssgan_cifar10",
    "table2_sngan_celeba",
    "table2_ssgan_celeba",
    "table4_hinge_cifar10",
    "table4_hinge_celeba",
    "table6_celeba_attributes",
    "figure1e_mnist_fmnist",
    "table5_mnist_fmnist",
}


def test_registered_through_entry_point():
    keys = set(all_experiments())
    assert {f"diagan/{name}" for name in EXPERIMENTS} <= keys


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@pytest.mark.parametrize("scale", SCALES)
def test_configs_load(name, scale):
    cfg = load_repro_config(EXPERIMENTS[name].config, scale).run_config()
    assert cfg.method.name in ("diagan", "diagan_stylegan2")
    assert cfg.method.options["phase1_steps"] < cfg.train.steps


def _run(name, scale="paper"):
    return load_repro_config(EXPERIMENTS[name].config, scale).run_config()


def test_paper_configs_hold_official_hyperparameters():
    c = _run("table2_sngan_cifar10")
    assert (c.train.steps, c.method.options["phase1_steps"], c.method.options["k"]) == (50000, 40000, 0.3)
    assert (c.optim.n_dis, c.optim.betas, c.optim.lr_decay) == (5, (0.0, 0.9), "linear")
    c = _run("table2_sngan_celeba")
    assert (c.train.steps, c.method.options["phase1_steps"], c.method.options["k"]) == (75000, 60000, 5.0)
    c = _run("table5_colored_mnist")
    assert c.method.options["eval_mode"] is False and c.optim.betas == (0.5, 0.9)
    e = load_repro_config(EXPERIMENTS["table5_colored_mnist"].config, "paper").experiment
    assert e.rhos == [0.99, 0.95, 0.9] and e.cae_epochs == 50
    assert _run("table4_hinge_cifar10").loss.name == "hinge"


def test_arms_are_the_trained_runs_per_ratio():
    # table5: vanilla (also Dia-GAN's shared phase 1) then Dia-GAN, for each majority ratio, in the config's order
    spec = load_repro_config(EXPERIMENTS["table5_colored_mnist"].config, "paper")
    assert [a.name for a in spec.arms] == [
        f"{b}_rho{r}" for r in ("0.99", "0.95", "0.9") for b in ("vanilla", "diagan")
    ]
    assert spec.arms[1].run == {"data": {"options": {"rho": 0.99}}} and spec.arms[1].columns() == {"rho": 0.99}
    # table2: the drs variant reuses the vanilla run; no ratio: one arm per base run
    spec = load_repro_config(EXPERIMENTS["table2_sngan_cifar10"].config, "paper")
    assert [(a.name, a.base, a.run) for a in spec.arms] == [("vanilla", "vanilla", {}), ("diagan", "diagan", {})]
    # Dia-GAN alone still trains the vanilla phase 1 it starts from
    spec = load_repro_config(EXPERIMENTS["figure2"].config, "paper", ["experiment.variants=[diagan]"])
    assert [a.name for a in spec.arms] == ["vanilla", "diagan"] and spec.shares_phase1()


def test_protocol_in_words_states_the_official_evaluation():
    from ganlab.core.repro import describe_protocol

    text = describe_protocol(EXPERIMENTS["table2_sngan_celeba"], "paper")
    assert (
        "TensorFlow's bilinear resize to 299" in text and "50000 fakes against all real images of the all split" in text
    )
    assert "k = 3: 10000 reals drawn at random from the train split (seed 0) against the first 10000 fakes" in text
    assert "202,599" in text
    text = describe_protocol(EXPERIMENTS["table2_sngan_cifar10"], "paper")
    assert "Metrics FID, IS" in text and "IS over 10 splits" in text and "all real images of the train split" in text
    assert "partial recall (k = 3)" in describe_protocol(EXPERIMENTS["figure1e_colored_mnist"], "paper").lower()


def test_experiment_metrics_are_the_analyses():
    with pytest.raises(ConfigError, match="the analyses are"):
        load_repro_config(EXPERIMENTS["figure2"].config, "smoke", ["experiment.metrics=[fid]"])


def test_stylegan2_arms_train_with_the_stylegan2_recipe():
    """Table 3: the vanilla arm (which also keeps the shared phase 1) and the Dia-GAN arm both run StyleGAN2's
    recipe (method diagan_stylegan2); the paper config has the port's defaults."""
    from ganlab.diagan.repro import DiaHooks
    from ganlab.diagan.stylegan2 import DiaStyleGAN2

    exp = EXPERIMENTS["table3_stylegan2_ffhq"]
    assert not exp.status  # no scale is pending
    spec = load_repro_config(exp.config, "smoke")
    for arm in spec.arms:
        cfg = spec.run_config()
        method = DiaHooks(spec).configure(None, arm, 0, cfg)
        assert isinstance(method, DiaStyleGAN2)
        assert method.options.phase1_steps == (None if arm.base == "vanilla" else 4)
    paper = load_repro_config(exp.config, "paper").run_config()
    o = paper.method.options
    assert paper.model.backbone == "stylegan2_256" and paper.train.batch_size == 16 and paper.train.steps == 250000
    assert (o["phase1_steps"], o["k"], o["r1_gamma"], o["r1_interval"], o["pl_weight"], o["pl_interval"]) == (
        200000,
        3.0,
        10.0,
        16,
        2.0,
        4,
    )
    # the port's EMA: 0.5 ** (32 / 10000) per step = a half-life of 5000 images at batch 16
    assert math.isclose(0.5 ** (16 / (o["ema_kimg"] * 1000)), 0.5 ** (32 / 10000))


def test_aggregate_mean_std():
    rows = [{"variant": "a", "seed": 0, "step": 5, "eval_n_fake": 9, "x": 1.0}, {"variant": "a", "seed": 1, "x": 3.0}]
    (agg,) = aggregate(rows, ("variant",))
    assert agg["x"] == 2.0 and agg["x_std"] == pytest.approx(math.sqrt(2.0))
    assert "step" not in agg and "eval_n_fake" not in agg  # the harness's columns are not averaged


def test_bad_protocol():
    with pytest.raises(ConfigError, match="unknown variants"):
        load_repro_config(EXPERIMENTS["figure2"].config, "smoke", ["experiment.variants=[gold]"])


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(EXPERIMENTS)],
)
def test_smoke(name, tmp_path):
    run_dir, records = run_experiment(EXPERIMENTS[name], "smoke", out_dir=tmp_path)
    assert records and (run_dir.path / "summary.md").is_file()
    variants = {r["variant"] for r in records}
    cfg = load_repro_config(EXPERIMENTS[name].config, "smoke")
    assert variants == set(cfg.experiment.variants)
    # every record carries the protocol (core's columns) and the trained arm it came from
    cols = cfg.protocol.as_record()  # a protocol without metrics carries only its checkpoint rule
    assert all({k: r[k] for k in cols} == cols and r["arm"] for r in records if isinstance(r.get("seed"), int))
    if cfg.run_config().data.name == "colored_mnist":  # issue 11: the results say which MNIST the digits came from
        assert all(
            r["data_source"].startswith("mnist5k") and r["n_data"] > 0
            for r in records
            if isinstance(r.get("seed"), int)
        )
