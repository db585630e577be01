"""Every reproduction runs at smoke scale (shared base GAN and filter net across experiments) and writes records
with their protocol; bad experiment options fail with one clear error."""

from __future__ import annotations

import pytest

from ganlab.core.errors import ConfigError
from ganlab.core.repro import run_experiment
from ganlab.multigan_boosting.experiments import EXPERIMENTS
from ganlab.multigan_boosting.repro import TABLE1, load_repro_config

MINE = [f"table1_{k}" for k in TABLE1] + ["table3", "classify_synthetic"]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("mgrepro")


def test_registry_has_all_table1_columns_and_the_rest():
    assert len(TABLE1) == 13
    assert set(MINE) <= set(EXPERIMENTS)
    for name, exp in EXPERIMENTS.items():
        assert exp.config.is_file(), name


@pytest.mark.parametrize(
    "name", [n for n in MINE if n != "table3"]
)  # table3: below; part B's GAN experiments: test_gan_repro.py
def test_runs_at_smoke(name, out):
    run_dir, records = run_experiment(EXPERIMENTS[name], "smoke", [], out)
    assert records and (run_dir.path / "results.json").is_file()
    if name in MINE:
        assert all("protocol" in r for r in records)


def test_table1_flags_and_table3_rows(out):
    cfg = load_repro_config(EXPERIMENTS["table1_G"].config, "paper")
    e = cfg.experiment
    assert (e.fixed, e.transform, e.filter, e.truncation) == (True, True, True, 1.5)
    assert cfg.classifier.epochs == 180 and cfg.classifier.iters_per_epoch == 400 and cfg.classifier.batch_size == 125
    assert cfg.classifier.arch == "resnet20_w64" and cfg.source.threshold == 0.9
    _, records = run_experiment(EXPERIMENTS["table3"], "smoke", [], out)
    rows = {(r["scheme"], r["n_gans"], tuple(r["weights"] or ())) for r in records}
    assert rows == {("baseline", 1, ()), ("baseline", 2, ()), ("C", 2, ()), ("C", 2, (0.75, 0.25))}


def test_bad_options():
    with pytest.raises(ConfigError, match="schemes"):
        load_repro_config(EXPERIMENTS["table3"].config, "smoke", ["experiment.schemes=[D]"])
    with pytest.raises(ConfigError, match="kind"):
        load_repro_config(EXPERIMENTS["table3"].config, "smoke", ["experiment.kind=nope"])
    with pytest.raises(ConfigError, match="one G per run"):
        load_repro_config(
            EXPERIMENTS["table3"].config,
            "smoke",
            ["protocol.checkpoint.choice=best_and_last", "protocol.checkpoint.every=10"],
        )


def test_scales_resolve():
    mini = load_repro_config(EXPERIMENTS["table1_M"].config, "mini")
    assert mini.data.name == "mnist5k" and mini.experiment.gan_seed is None and mini.data.val_size == 500
    assert mini.seeds == [0, 1, 2] and mini.source.flip is False and mini.classifier.arch == "lenet"
    assert "model.backbone=mlp_image" in mini.gan.overrides
    # every mini experiment trains and reuses the same filter net and GAN sequences (one shared folder)
    from dataclasses import asdict

    from ganlab.core.train.config import load_experiment

    c = load_repro_config(EXPERIMENTS["mini_c"].config, "mini")
    t3 = load_repro_config(EXPERIMENTS["table3"].config, "mini")
    for other in (c, t3):
        for part in ("gan", "classifier", "data"):
            assert asdict(getattr(other, part)) == asdict(getattr(mini, part)), part
    assert c.experiment.shared_name == t3.experiment.shared_name == mini.experiment.shared_name
    gan = load_experiment(mini.gan.config, mini.gan.overrides, "mini")
    assert gan.model.backbone == "mlp_image" and gan.model.options["num_classes"] == 10 and gan.train.steps == 1000
    paper = load_repro_config(EXPERIMENTS["table1_M"].config, "paper")
    assert paper.data.name == "cifar10" and paper.experiment.gan_seed is None and paper.gan.overrides == []
