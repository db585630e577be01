"""The comparison harness: suites load and refuse bad input, methods compose on one trainer, cells resume, a killed
suite finishes with the numbers of an uninterrupted one, and the report is rebuilt from finished cells."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from ganlab.benchmarks.cells import Cell, run_cell
from ganlab.benchmarks.runner import run_suite, status
from ganlab.benchmarks.stats import excludes_zero, mean_std, paired_difference
from ganlab.benchmarks.suite import list_suites, load_suite
from ganlab.core.errors import ConfigError, RegistryError

TINY = Path(__file__).with_name("tiny.yaml")


def test_shipped_suites_load():
    assert {"quick", "cpu", "paper"} <= set(list_suites())
    for name in list_suites():
        suite = load_suite(name)
        assert len(suite.seeds) >= 3 and "vanilla" in suite.methods


def test_bad_input_names_the_closest_match(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'topk'"):
        load_suite(TINY, methods=["topkk"])
    with pytest.raises(RegistryError, match="unknown method part 'diagna'.*did you mean 'diagan'"):
        load_suite(TINY, ["methods.vanilla.parts=[diagna]"])
    with pytest.raises(RegistryError, match="did you mean 'gaussians25'"):
        run_suite(load_suite(TINY, ["settings.gauss.run.data.name=gaussians52"], methods=["vanilla"]), tmp_path / "a")
    with pytest.raises(ConfigError, match="at most one train part"):
        load_suite(TINY, ["methods.vanilla.parts=[topk, diagan]"])
    # a method that cannot run on a setting's data is refused when the suite loads its data, before any training
    from PIL import Image

    folder = tmp_path / "unlabelled"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.full((8, 8), 40 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    over = [f"settings.digits.run.data={{name: image_folder, root: {folder}, resolution: 32}}",
            "methods.vanilla.parts=[conditional]"]  # fmt: skip
    with pytest.raises(ConfigError, match="cannot run on setting 'digits'.*conditional needs class labels"):
        run_suite(load_suite(TINY, over, methods=["vanilla"]), tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_paired_difference_is_students_t():
    x = {0: 1.0, 1: 2.5, 2: 1.7, 3: 3.1}
    y = {0: 0.4, 1: 2.0, 2: 1.9, 3: 2.2, 9: 5.0}  # seed 9 has no pair
    d = np.array([0.6, 0.5, -0.2, 0.9])
    lo, hi = stats.t.interval(0.95, 3, loc=d.mean(), scale=stats.sem(d))
    mean, lo2, hi2, n = paired_difference(x, y)
    assert n == 4 and math.isclose(mean, d.mean()) and math.isclose(lo, lo2) and math.isclose(hi, hi2)
    assert excludes_zero(0.1, 0.5) and not excludes_zero(-0.1, 0.5)
    assert mean_std([1.0, 2.0, float("nan"), 3.0]) == (2.0, 1.0, 3)


def test_instance_selection_plus_diagan_reweights_inside_the_kept_subset(tmp_path):
    suite = load_suite(TINY, methods=["is50+diagan"])
    cell = Cell(suite, "digits", "is50+diagan", 0, tmp_path)
    cell.ctx.prepare()
    trained = cell.train()
    trainer, method = trained.trainer, trained.trainer.method
    kept = np.sort(cell.selection.indices)
    assert len(trainer.dataset) == len(kept) < len(cell.ctx.dataset)
    np.testing.assert_array_equal(trainer.dataset.indices, kept)  # the trainer sees the kept subset only
    assert method.phase == 2 and len(method.probs) == len(kept)  # Dia-GAN's weights cover the subset ...
    drawn = trainer.sampler_of("main").next_indices(500)
    assert np.asarray(drawn).max() < len(kept)  # ... and its weighted sampler draws positions inside it
    scores = cell.instance_scores(trained)
    out = np.setdiff1d(np.arange(len(cell.ctx.dataset)), kept)
    assert np.isnan(scores["diagan/ldrm"][out]).all() and np.isfinite(scores["diagan/ldrm"][kept]).all()
    assert np.isfinite(scores["instance_selection/gaussian_density"]).all()
    trainer.close()


def test_a_diverged_cell_is_marked_failed_and_the_suite_goes_on(tmp_path):
    suite = load_suite(TINY, ["settings.gauss.run.optim.g_lr=1e12", "settings.gauss.run.optim.d_lr=1e12"],
                       methods=["vanilla"], seeds=1)  # fmt: skip
    summary = run_suite(suite, tmp_path, progress=False)
    gauss = json.loads((tmp_path / "gauss" / "vanilla" / "seed0" / "cell.json").read_text())
    digits = json.loads((tmp_path / "digits" / "vanilla" / "seed0" / "cell.json").read_text())
    assert gauss["status"] == "failed" and "TrainingDivergedError" in gauss["message"]
    assert digits["status"] == "done" and digits["metrics"]["fid"] > 0
    assert "failed: vanilla seed 0: TrainingDivergedError" in summary.read_text()


def _run(root: Path, workers: int = 1) -> subprocess.Popen:
    code = (
        "import sys; from ganlab.benchmarks.suite import load_suite; from ganlab.benchmarks.runner import run_suite; "
        f"run_suite(load_suite({str(TINY)!r}), {str(root)!r}, progress=False, workers={workers})"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _metrics(root: Path) -> dict:
    return {
        (r["setting"], r["method"], r["seed"]): r.get("metrics")
        for r in json.loads((root / "results.json").read_text())
    }


def test_a_suite_killed_in_the_middle_finishes_with_the_uninterrupted_numbers(tmp_path):
    ref = _run(tmp_path / "ref")
    assert ref.wait(timeout=900) == 0, ref.stderr.read().decode()[-2000:]
    killed = tmp_path / "killed"
    proc = _run(killed)
    deadline = time.time() + 600
    while time.time() < deadline and len(list(killed.glob("*/*/seed*/cell.json"))) < 5:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(killed.glob("*/*/seed*/cell.json")))
    assert 0 < done_before < len(load_suite(TINY).cells())
    again = _run(killed, workers=2)  # resumed two cells at a time: the same numbers as one after another
    assert again.wait(timeout=900) == 0, again.stderr.read().decode()[-2000:]
    a, b = _metrics(tmp_path / "ref"), _metrics(killed)
    assert a.keys() == b.keys()
    for key in a:
        assert {k: v for k, v in a[key].items() if k != "eval_s"} == {k: v for k, v in b[key].items() if k != "eval_s"}
    assert all(s["status"] == "done" for s in status(load_suite(TINY), killed))
    # the report is rebuilt from the finished cells alone, identically
    from ganlab.core.cli import main

    def tables(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and not line.startswith("Wall time")]

    before, results = (killed / "summary.md").read_text(), (killed / "results.json").read_text()
    assert main(["bench", "report", str(killed)]) == 0
    assert tables((killed / "summary.md").read_text()) == tables(before)
    assert (killed / "results.json").read_text() == results
    for png in ("plots/digits_metrics.png", "plots/digits_precision_recall.png", "plots/gauss_modes.png",
                "sheets/digits.png", "scores/digits_spearman.png", "scores/digits_extremes.png"):  # fmt: skip
        assert (killed / png).is_file(), png


def test_cells_dispatch_through_submitit_local_executor(tmp_path):
    suite = load_suite(TINY, methods=["vanilla", "vanilla+drs"], seeds=1)
    run_suite(suite, tmp_path, executor="submitit-local", progress=False)
    recs = [r for r in json.loads((tmp_path / "results.json").read_text()) if r["setting"] == "digits"]
    assert [r["status"] for r in recs] == ["done", "done"]
    assert recs[0]["train_dir"] == recs[1]["train_dir"]  # vanilla and vanilla + DRS share one training
    assert recs[1]["metrics"]["acceptance"] < 1
    cell = Cell(suite, "digits", "vanilla", 0, tmp_path)
    assert run_cell(cell)["status"] == "done"  # a finished cell is skipped


def test_a_suite_deletes_checkpoints_once_their_cells_have_results_unless_asked_to_keep(tmp_path):
    suite = load_suite(TINY, methods=["vanilla", "vanilla+drs"], seeds=1)
    run_suite(suite, tmp_path / "lean", progress=False)
    run_suite(suite, tmp_path / "kept", progress=False, keep_checkpoints=True)
    assert not list((tmp_path / "lean").glob("**/checkpoints/step_*.pt"))
    kept = list((tmp_path / "kept").glob("**/checkpoints/step_*.pt"))
    assert kept and {p.parent.parent.parent.parent.name for p in kept} == {"_train"}
    lean, full = _metrics(tmp_path / "lean"), _metrics(tmp_path / "kept")
    assert lean.keys() == full.keys()
    for key in lean:  # pruning happens after the results: the numbers are the same
        assert {k: v for k, v in lean[key].items() if k != "eval_s"} == {
            k: v for k, v in full[key].items() if k != "eval_s"
        }
    # a re-run of the lean suite skips every finished cell (nothing retrains into the pruned folders)
    run_suite(suite, tmp_path / "lean", progress=False)
    assert not list((tmp_path / "lean").glob("**/checkpoints/step_*.pt"))
