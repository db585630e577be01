"""The demo suite (`nox -s demo`): what it keeps of the cpu suite, the evaluator it trains once and caches, the
sheet that shows every class, and the summary that names the effects its paired differences resolve."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from ganlab.benchmarks.protocol import SettingContext
from ganlab.benchmarks.report import effect_lines
from ganlab.benchmarks.runner import run_suite
from ganlab.benchmarks.suite import load_suite

TINY = Path(__file__).with_name("tiny.yaml")


def test_demo_keeps_every_method_of_the_cpu_suite_on_its_mnist_setting():
    demo, cpu = load_suite("demo"), load_suite("cpu")
    assert list(demo.settings) == ["mnist"]
    assert set(demo.methods) == set(cpu.methods)
    assert len(demo.seeds) == 3  # 2 pairs leave a t-interval 3x wider (t_0.975,1 = 12.7 vs t_0.975,2 = 4.30)
    assert {m: s.baseline for m, s in demo.methods.items()} == {m: s.baseline for m, s in cpu.methods.items()}
    assert demo.settings["mnist"].run["train"]["checkpoint_every"] == 0  # only the end-of-training checkpoint


def _record(method, seed, fid, baseline="vanilla"):
    return {"setting": "s", "method": method, "seed": seed, "status": "done", "baseline": baseline,
            "metrics": {"fid": fid}}  # fmt: skip


def test_effect_lines_name_what_the_paired_intervals_resolve_and_what_they_do_not():
    base = [60.0, 70.0, 80.0]
    records = [_record("vanilla", s, f) for s, f in enumerate(base)]
    records += [_record("better", s, f - d) for s, (f, d) in enumerate(zip(base, [10.0, 11.0, 12.0]))]
    records += [_record("same", s, f + d) for s, (f, d) in enumerate(zip(base, [1.0, -1.0, 0.0]))]
    lines = effect_lines(records, "s", ["vanilla", "better", "same"])
    # by hand: d = -10, -11, -12; mean -11, sd 1, half-width t_0.975,2 (4.3027) / sqrt(3) = 2.484 -> [-13.5, -8.52]
    resolved = [x for x in lines if x.startswith("- **better**")]
    assert resolved == ["- **better** vs vanilla: fid -11 [-13.5, -8.52] (better)"]
    assert lines[-2] == "Not resolved at these seeds (every interval contains 0): same vs vanilla."


def test_the_in_domain_evaluator_is_trained_once_and_then_read_from_the_cache(tmp_path, monkeypatch):
    import ganlab.core.features.indomain as indomain

    suite = load_suite(TINY)
    first = SettingContext(suite, "digits", tmp_path / "a")
    first.prepare()
    assert (Path(str(first._cached_evaluator())) / "features.npy").is_file()

    def refuse(*args, **kwargs):
        raise AssertionError("the evaluator was trained a second time")

    monkeypatch.setattr(indomain, "train_classifier_on_dataset", refuse)
    second = SettingContext(suite, "digits", tmp_path / "b")
    second.prepare()
    np.testing.assert_array_equal(first.features, second.features)
    assert second.classifier_accuracy() == first.classifier_accuracy()
    other = load_suite(TINY, ["settings.digits.protocol.extractor.epochs=2"])
    assert SettingContext(other, "digits", tmp_path / "c").evaluator_key() != first.evaluator_key()


def test_the_cell_sheet_takes_samples_spread_over_class_sorted_output(tmp_path):
    from PIL import Image

    from ganlab.benchmarks.cells import Cell, _sheet

    suite = load_suite(TINY, ["settings.digits.protocol.sheet=4"])
    cell = Cell(suite, "digits", "vanilla", 0, tmp_path)
    # 40 samples sorted by class 0..3 (10 each), class c drawn as the constant grey (c - 1.5) / 1.5
    images = torch.cat([torch.full((10, 1, 8, 8), (c - 1.5) / 1.5) for c in range(4)])
    _sheet(cell, images)
    with Image.open(cell.dir / "samples.png") as img:
        grid = np.asarray(img.convert("L"))
    # 2 x 2 grid, each 8-px image enlarged 8x (64 px) inside 2-px padding: sample the four cell centres
    centres = [grid[2 + 32 + r * 66, 2 + 32 + c * 66] for r in range(2) for c in range(2)]
    assert centres == [0, 85, 170, 255]  # indices 0, 13, 26, 39: one per class


@pytest.mark.slow
def test_a_smoke_demo_names_the_resolved_sampling_effects(tmp_path):
    overrides = ["train.steps=30", "settings.mnist.protocol.n_fake=200", "settings.mnist.protocol.n_real=200",
                 "settings.mnist.protocol.capacity=false"]  # fmt: skip
    suite = load_suite("demo", overrides, methods=["vanilla+drs", "gold_rejection"])
    summary = run_suite(suite, tmp_path, progress=False).read_text()
    assert "Effects resolved (95 % paired interval excludes 0):" in summary
    assert not list(tmp_path.glob("**/checkpoints/step_*.pt"))  # pruned once the cells have their results
    assert math.isfinite(float(summary.count("vanilla+drs")))
