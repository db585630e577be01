"""Every reproduction: configs load and validate at every scale, paper configs hold the paper's settings, and each
experiment runs at smoke scale (the fast ones in CI, the rest marked slow)."""

from __future__ import annotations

import pytest

from ganlab.core.config import SCALES
from ganlab.core.errors import ConfigError
from ganlab.core.nn import build_backbone
from ganlab.core.repro import all_experiments, run_experiment
from ganlab.gold.repro import EXPERIMENTS, harness_spec, load_repro_config

FAST = {"table3_mnist", "figure1", "figure4_mnist"}  # one per kind (figure1: re-weighting + figures)


def test_registered_through_entry_point():
    assert {f"gold/{name}" for name in EXPERIMENTS} <= set(all_experiments())


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@pytest.mark.parametrize("scale", SCALES)
def test_configs_load(name, scale):
    cfg = load_repro_config(EXPERIMENTS[name].config, scale)
    assert cfg.run.method.name == "gold"
    if scale == "smoke":  # the paper-size models are built in core's parameter-count tests
        build_backbone(cfg.run.model.backbone, **cfg.run.model.options)
    else:
        from ganlab.core.nn import param_counts

        assert param_counts(cfg.run.model.backbone, **cfg.run.model.options)["D"] > 0  # shapes only: no init


def test_paper_settings():
    c = load_repro_config(EXPERIMENTS["table1_mnist"].config, "paper")
    o = c.run.method.options
    assert (c.run.data.name, c.run.data.resolution, c.run.model.backbone) == ("mnist", 32, "acgan_mnist_gold")
    assert (o["epochs"], o["lambda_c"], o["beta_d"], o["beta_g"]) == (20, 0.1, 1.0, 0.0)
    assert (c.run.optim.g_lr, c.run.optim.betas, c.run.optim.n_dis, c.run.train.batch_size) == (
        2e-4,
        (0.5, 0.999),
        1,
        128,
    )
    assert c.experiment.seeds == [1, 2, 3, 4, 5] and c.run.loss.name == "ns"
    c = load_repro_config(EXPERIMENTS["table1_cifar10"].config, "paper")
    assert (c.run.model.backbone, c.run.method.options["epochs"]) == ("acgan_cifar_gold", 200)
    c = load_repro_config(EXPERIMENTS["table2_svhn"].config, "paper")
    assert c.experiment.label_fractions == [0.01, 0.05, 0.1, 0.2, 0.5, 1.0]
    assert load_repro_config(EXPERIMENTS["table3_mnist"].config, "paper").experiment.ps == [0.1]
    c = load_repro_config(EXPERIMENTS["table3_svhn"].config, "paper")
    assert (c.experiment.ps, c.experiment.n_bank, c.experiment.n_stats, c.experiment.rejection_batch) == (
        [0.5],
        50000,
        50000,
        100,
    )
    assert load_repro_config(EXPERIMENTS["table4_cifar10"].config, "paper").experiment.ps == [0.1, 0.3, 0.5, 0.7, 0.9]
    c = load_repro_config(EXPERIMENTS["table6_imagenette"].config, "paper")
    assert (c.run.model.backbone, c.run.data.resolution, c.run.method.options["lambda_c"]) == ("acgan128_gold", 128, 0)
    c = load_repro_config(EXPERIMENTS["figure3"].config, "paper")
    a = c.experiment.active
    assert (a.sizes, a.epochs, a.eval_every, a.val_size, len(c.experiment.seeds)) == ((4, 1, 8), 100, 10, 100, 25)
    assert c.experiment.variants == ["gold_balanced", "random"] and c.run.method.options["lambda_c"] == 0.01
    for name, sizes, lam in (
        ("figure4_mnist", (10, 2, 18), 0.01),
        ("figure4_fmnist", (20, 5, 40), 0.0),
        ("figure4_svhn", (20, 20, 100), 0.0),
    ):
        c = load_repro_config(EXPERIMENTS[name].config, "paper")
        assert c.experiment.active.sizes == sizes and c.run.method.options["lambda_c"] == lam
    o = load_repro_config(EXPERIMENTS["figure6"].config, "paper").run.method.options
    assert (o["epochs"], o["start_epoch"], o["num_labelled"], o["use_unlabelled"]) == (2000, 1000, 10, False)


def test_lsun_paper_reads_the_ten_labelled_val_categories(tmp_path):
    pytest.importorskip("lmdb")
    from ganlab.core.data import get_dataset
    from ganlab.core.data.standin import write_standin

    write_standin("lsun", tmp_path, num=4)  # every scene category, 2 val images each
    for name in ("table1_lsun", "table3_lsun"):
        assert "paper" not in EXPERIMENTS[name].status
        c = load_repro_config(EXPERIMENTS[name].config, "paper").run
        data = (c.data.name, c.data.split, c.data.resolution)
        assert data == ("lsun", "val", 32) and c.method.options["test_split"] == "val"
        ds = get_dataset(c.data.name, root=str(tmp_path), split=c.data.split, resolution=32, **c.data.options)
        assert ds.num_classes == 10 and ds.labels.tolist() == [k for k in range(10) for _ in range(2)]
        assert ds.class_names[:3] == ["bedroom", "bridge", "church_outdoor"]


def test_bad_protocols():
    with pytest.raises(ConfigError, match="variants"):
        load_repro_config(EXPERIMENTS["table1_mnist"].config, "smoke", ["experiment.variants=[random]"])
    with pytest.raises(ConfigError, match=r"\(0, 1\)"):
        load_repro_config(EXPERIMENTS["table3_mnist"].config, "smoke", ["experiment.ps=[1.0]"])


def test_harness_arms():
    """Table 2: per label fraction the baseline, then the GOLD run that continues it; a rejection experiment trains
    one baseline; an active one has an arm per query."""
    cfg = load_repro_config(EXPERIMENTS["table2_svhn"].config, "paper")
    spec = harness_spec(cfg)
    assert [a.name for a in spec.arms[:2]] == ["baseline_label_fraction0.01", "gold_label_fraction0.01"]
    assert len(spec.arms) == 2 * 6 and spec.seeds == cfg.experiment.seeds
    assert spec.arms[1].run == {"method": {"options": {"label_fraction": 0.01, "reweight": True}}}
    assert spec.arms[0].columns() == {"label_fraction": 0.01}
    spec = harness_spec(load_repro_config(EXPERIMENTS["table3_mnist"].config, "smoke"))
    assert [(a.name, a.run) for a in spec.arms] == [("baseline", {"method": {"options": {"reweight": False}}})]
    assert spec.protocol.network.name == "lenet_indomain" and spec.protocol.metrics == ["fid"]
    spec = harness_spec(load_repro_config(EXPERIMENTS["figure3"].config, "smoke"))
    assert [a.name for a in spec.arms] == ["gold_balanced", "random"]


def test_the_protocol_of_a_rejection_experiment_counts_the_whole_bank():
    """Tables 3 / 5 score each fixed bank whole: the committed mini records say how many fakes their FID read."""
    import csv
    from pathlib import Path

    proto = harness_spec(load_repro_config(EXPERIMENTS["table3_mnist"].config, "mini")).protocol
    results = Path(__file__).parents[1] / "results" / "table3_mnist_mini"
    rows = [r for f in sorted(results.glob("seed*/results.csv")) for r in csv.DictReader(f.read_text().splitlines())]
    assert len(rows) == 6 and {int(r["fid_n_fake"]) for r in rows} == {proto.n_fake} == {50000}
    assert proto.conditioning.labels == "class_sequential"  # 5,000 of each class, class after class
    assert "fixed bank of 50000 samples" in EXPERIMENTS["table3_mnist"].protocol("mini")
    reweight = harness_spec(load_repro_config(EXPERIMENTS["figure6"].config, "mini")).protocol
    assert (reweight.n_fake, reweight.conditioning.labels) == (
        load_repro_config(EXPERIMENTS["figure6"].config, "mini").experiment.fid_n,
        "uniform",
    )


@pytest.mark.parametrize(
    "name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in sorted(EXPERIMENTS)]
)
def test_smoke(name, tmp_path):
    run_dir, records = run_experiment(EXPERIMENTS[name], "smoke", out_dir=tmp_path)
    assert records and (run_dir.path / "summary.md").is_file()
    cfg = load_repro_config(EXPERIMENTS[name].config, "smoke")
    for fig in cfg.experiment.figures:
        assert (run_dir.path / f"{fig}.png").is_file(), fig
    if cfg.experiment.kind == "rejection":
        assert {r["variant"] for r in records} == {"random", *[f"gold_p{p:g}" for p in cfg.experiment.ps]}
        assert all(r["rejection_stats"] == "official" for r in records)
    if cfg.experiment.fid or cfg.experiment.kind == "unstable":  # every FID record names its network
        fids = [r for r in records if "fid" in r]
        assert fids and all(r["fid_extractor"] == cfg.experiment.fid_extractor == "lenet_indomain" for r in fids)
