"""Every reproduction runs at smoke scale (the same code path as mini and paper); paper and mini configs load and
validate; the records carry their evaluation protocol."""

from __future__ import annotations

import json

import pytest

from ganlab.core.repro import run_experiment
from ganlab.icgan.repro import EXPERIMENTS, load

RUNNABLE = sorted(n for n, e in EXPERIMENTS.items() if not e.status)


def test_no_row_is_pending_and_the_stylegan2_rows_have_the_auto_recipe():
    assert not [n for n, e in EXPERIMENTS.items() if e.status]
    for res in (128, 256):
        cfg = load(EXPERIMENTS[f"table2_coco{res}_stylegan2"].config, "paper")
        arms = {a.name: a.run for a in cfg.experiment.arms}
        assert arms["uncond_stylegan2"]["model"]["backbone"] == f"stylegan2_coco{res}_uncond"
        assert arms["icgan_stylegan2"]["model"]["backbone"] == f"icgan_stylegan2_coco{res}"
        assert arms["icgan_stylegan2"]["method"]["name"] == "icgan_stylegan2"
        batch = cfg.run["train"]["batch_size"]
        for run in arms.values():
            o = run["method"]["options"]
            assert o["r1_gamma"] == pytest.approx(0.0002 * res**2 / batch)  # StyleGAN2-ADA's 'auto' gamma
            assert o["ema_kimg"] == batch * 10 / 32 and o["augment"] == "diffaugment"
        assert cfg.run["loss"]["name"] == "ns" and cfg.run["ema"]["start"] == 0


@pytest.mark.parametrize("name", RUNNABLE)
def test_paper_and_mini_configs_validate(name):
    for scale in ("paper", "mini"):
        cfg = load(EXPERIMENTS[name].config, scale)
        cfg.experiment.validate()
        assert cfg.experiment.arms


@pytest.mark.parametrize("name", RUNNABLE)
def test_smoke(name, tmp_path):
    run_dir, records = run_experiment(EXPERIMENTS[name], "smoke", out_dir=tmp_path)
    assert records and (run_dir.path / "results.csv").is_file() and (run_dir.path / "summary.md").is_file()
    saved = json.loads((run_dir.path / "results.json").read_text())
    assert len(saved) == len(records)
    if EXPERIMENTS[name].config.stem != "figure1":
        for rec in records:
            assert {"extractor", "weights_sha256", "reference", "reference_split", "n_real", "n_fake"} <= set(rec)
            protocol = {"transform_input", "resize", "reference_draw", "instance_draw", "label_draw", "checkpoint"}
            assert protocol <= set(rec)
            if isinstance(rec.get("seed"), int):  # smoke keeps the best-training-FID G (evaluated every step)
                assert rec["checkpoint"] == "best" and rec["best_step"] in (1, 2)
        if name.startswith("table2_coco") and "stylegan2" not in name:  # the transf. arm: from the dataset's instances
            transf = [r for r in records if r.get("arm") == "icgan_transf"]
            assert transf and all(r["transfer"] is True and r["stored"] == 8 for r in transf)
            assert rec.get("fid", 0) >= 0
    else:
        assert all((run_dir.path / r["sheet"]).is_file() for r in records)
