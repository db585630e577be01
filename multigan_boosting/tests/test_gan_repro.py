"""Part B's reproductions (Table 2, Table 4, Appendix A.2, Figures): paper settings, smoke runs, bad options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ganlab.core.errors import ConfigError
from ganlab.core.repro import run_experiment
from ganlab.multigan_boosting.experiments import EXPERIMENTS
from ganlab.multigan_boosting.repro import load_repro_config

GAN_EXPERIMENTS = {k: EXPERIMENTS[k] for k in ("table2", "table4", "fid_a2", "figures", "mini_c")}


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("mggan")


def test_registered_and_paper_protocols():
    spec = load_repro_config(GAN_EXPERIMENTS["table2"].config, "paper")
    e, p = spec.experiment, spec.protocol
    assert (p.network.name, p.n_fake, p.reference.split, p.reference.n, p.reference.draw, p.batch_size) == (
        "inception", 5000, "test", 5000, "first", 50,
    )  # fmt: skip
    assert p.conditioning.labels == "class_sequential" and (e.n_pairs, e.n_msssim, e.ms_ssim) == (200, 4000, True)
    mini = load_repro_config(GAN_EXPERIMENTS["mini_c"].config, "mini").protocol
    assert (mini.network.name, mini.resize.method, mini.n_fake, mini.reference.n) == ("filter", "none", 1000, 1000)
    t4 = load_repro_config(GAN_EXPERIMENTS["table4"].config, "paper").experiment.sources
    assert [(s.scheme, s.gans, s.paper_fid) for s in t4[1:]] == [
        ("baseline", [0, 1], 17.02), ("B", [0, 1], 17.83), ("C", [0, 1], 18.68), ("A_sigma", [0, 1], 21.15),
        ("A_mu", [0, 1], 88.52),
    ]  # fmt: skip
    a2 = load_repro_config(GAN_EXPERIMENTS["fid_a2"].config, "paper")
    assert len(a2.experiment.sources) == 18 and a2.protocol.metrics == ["fid"] and not a2.experiment.ms_ssim
    a2 = a2.experiment
    assert max(max(s.gans) for s in a2.sources) == 4  # MultiGAN n = 5


@pytest.mark.parametrize("name", ["table2", "table4", "fid_a2", "figures", "mini_c"])
def test_runs_at_smoke(name, out):
    run_dir, records = run_experiment(GAN_EXPERIMENTS[name], "smoke", [], out)
    assert records and (run_dir.path / "results.json").is_file()
    if name == "figures":
        pngs = {r["png"] for r in records}
        assert len(pngs) == 3 and all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
        zero = {r["transform"]: r["zero_weight_fraction"] for r in records if r["figure"] == "figure2"}
        assert zero["A_mu"] > 0.2 and zero["C"] < 0.05  # A_mu zeroes everything below the class mean
    else:
        assert all("fid_protocol" in r and r["fid"] >= 0 for r in records)
    if name == "table2":
        assert {r["source"] for r in records} >= {"CIFAR-10", "BigGAN psi=0.5", "MultiGAN Cond. C n=2"}
        assert all("ms_ssim_protocol" in r for r in records)


def test_bad_options():
    with pytest.raises(ConfigError, match="scheme 'D' unknown"):
        load_repro_config(GAN_EXPERIMENTS["table2"].config, "smoke", ["experiment.sources=[{name: x, scheme: D}]"])
    with pytest.raises(ConfigError, match="metrics"):
        load_repro_config(GAN_EXPERIMENTS["table2"].config, "smoke", ["protocol.metrics=[ms_ssim]"])
    with pytest.raises(ConfigError, match="unknown config key"):
        load_repro_config(GAN_EXPERIMENTS["table2"].config, "smoke", ["experiment.bogus=1"])


def test_real_row_fid_draws_its_training_images_across_classes():
    from scipy.stats import chisquare

    from ganlab.multigan_boosting.gan_repro import train_subset

    labels = np.repeat(np.arange(10), 350)  # a split stored class by class, as load_splits' stratified split
    pick = train_subset(len(labels), 1000, seed=0).numpy()
    assert len(np.unique(pick)) == 1000 and pick.max() < len(labels)
    counts = np.bincount(labels[pick], minlength=10)
    assert chisquare(counts).pvalue > 0.01  # uniform over classes; the first 1000 would be classes 0-2 only
    assert np.array_equal(pick, train_subset(len(labels), 1000, seed=0).numpy())
    assert len(train_subset(50, 1000, seed=0)) == 50
