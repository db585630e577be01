"""Every reproduction experiment: configs load at every scale, and each runs at smoke scale."""

from __future__ import annotations

import math

import pytest

from ganlab.core.config import SCALES
from ganlab.core.errors import ConfigError, GanlabError
from ganlab.core.repro import all_experiments, run_experiment
from ganlab.diagan.repro import EXPERIMENTS, aggregate, load_repro_config

# image experiments train SNGAN-type nets and extract features: minutes on a loaded 2-core CPU
SLOW = {
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
    cfg = load_repro_config(EXPERIMENTS[name].config, scale)
    assert cfg.run.method.name == "diagan"
    assert cfg.run.method.options["phase1_steps"] < cfg.run.train.steps


def test_paper_configs_hold_official_hyperparameters():
    c = load_repro_config(EXPERIMENTS["table2_sngan_cifar10"].config, "paper")
    assert (c.run.train.steps, c.run.method.options["phase1_steps"], c.run.method.options["k"]) == (50000, 40000, 0.3)
    assert (c.run.optim.n_dis, c.run.optim.betas, c.run.optim.lr_decay) == (5, (0.0, 0.9), "linear")
    c = load_repro_config(EXPERIMENTS["table2_sngan_celeba"].config, "paper")
    assert (c.run.train.steps, c.run.method.options["phase1_steps"], c.run.method.options["k"]) == (75000, 60000, 5.0)
    c = load_repro_config(EXPERIMENTS["table5_colored_mnist"].config, "paper")
    assert c.run.method.options["eval_mode"] is False and c.run.optim.betas == (0.5, 0.9)
    assert c.experiment.rhos == [0.99, 0.95, 0.9] and c.experiment.cae_epochs == 50
    assert load_repro_config(EXPERIMENTS["table4_hinge_cifar10"].config, "paper").run.loss.name == "hinge"


def test_pending_stylegan2():
    exp = EXPERIMENTS["table3_stylegan2_ffhq"]
    assert exp.status["paper"].startswith("pending: StyleGAN2")
    with pytest.raises(GanlabError, match="pending"):
        run_experiment(exp, "smoke")


def test_aggregate_mean_std():
    rows = [{"variant": "a", "seed": 0, "x": 1.0}, {"variant": "a", "seed": 1, "x": 3.0}]
    (agg,) = aggregate(rows, ("variant",))
    assert agg["x"] == 2.0 and agg["x_std"] == pytest.approx(math.sqrt(2.0))


def test_bad_protocol():
    with pytest.raises(ConfigError, match="unknown variants"):
        load_repro_config(EXPERIMENTS["figure2"].config, "smoke", ["experiment.variants=[gold]"])


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(EXPERIMENTS) if "stylegan2" not in n],
)
def test_smoke(name, tmp_path):
    run_dir, records = run_experiment(EXPERIMENTS[name], "smoke", out_dir=tmp_path)
    assert records and (run_dir.path / "summary.md").is_file()
    variants = {r["variant"] for r in records}
    cfg = load_repro_config(EXPERIMENTS[name].config, "smoke")
    assert variants == set(cfg.experiment.variants)
    if cfg.run.data.name == "colored_mnist":  # issue 11: the results say which MNIST the digits came from
        assert all(
            r["data_source"].startswith("mnist5k") and r["n_data"] > 0
            for r in records
            if isinstance(r.get("seed"), int)
        )
