"""``ganlab multigan-boosting ...``: the command group, train-classifier on real data and on a GAN run, ensemble export,
bad input with one clear error and nothing written."""

from __future__ import annotations

import argparse
import json
import re

import numpy as np
import pytest

from ganlab.core.cli import build_parser, main


def test_command_group_and_subcommands():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert "multigan-boosting" in sub.choices
    mg = next(a for a in sub.choices["multigan-boosting"]._actions if isinstance(a, argparse._SubParsersAction))
    assert {"train-gan", "weights", "train-classifier", "ensemble", "repro"} <= set(mg.choices)


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("mgcli")
    assert (
        main(
            [
                "multigan-boosting",
                "train-gan",
                "biggan32_cifar_multigan",
                "--scale",
                "smoke",
                "--run-dir",
                str(d / "g0"),
            ]
        )
        == 0
    )
    return d


def test_train_classifier_real_then_on_gan_with_filter(gan_run, capsys):
    d = gan_run
    assert (
        main(["multigan-boosting", "train-classifier", "classify", "--scale", "smoke", "--run-dir", str(d / "real")])
        == 0
    )
    rec = json.loads((d / "real" / "result.json").read_text())
    assert rec["source"] == "real" and 0 <= rec["best_test_accuracy"] <= 1 and "val_selected_test_accuracy" in rec
    argv = ["multigan-boosting", "train-classifier", "classify", "--scale", "smoke", "--generators", str(d / "g0"),
            "--filter", str(d / "real" / "classifier.pt"), "--run-dir", str(d / "fake")]  # fmt: skip
    assert main(argv) == 0
    rec = json.loads((d / "fake" / "result.json").read_text())
    assert rec["source"] == "on-the-fly" and rec["filter"] and 0 < rec["acceptance_rate"] <= 1
    assert (d / "fake" / "classifier.pt").is_file()


def test_ensemble_export_class_sequential(gan_run):
    out = gan_run / "s.npz"
    assert main(["multigan-boosting", "ensemble", str(gan_run / "g0"), str(gan_run / "g0"), "--weights", "3", "1",
                 "-n", "40", "--batch-size", "5", "--out-file", str(out)]) == 0  # fmt: skip
    with np.load(out) as f:
        assert f["x"].dtype == np.uint8 and f["x"].shape[0] == 40
        np.testing.assert_array_equal(f["y"], np.repeat(np.arange(10), 4))


@pytest.mark.parametrize(
    "extra,match",
    [
        (["source.threshold=1.5"], r"\(0, 1\]"),
        (["source.threshold=0"], r"\(0, 1\]"),
        (["--weights", "1", "2"], "2 entries for 0 generators"),
        (["--filter", "nope.pt"], "not a classifier checkpoint"),
    ],
)
def test_bad_input_one_error_nothing_written(tmp_path, extra, match, capsys):
    code = main(
        [
            "multigan-boosting",
            "train-classifier",
            "classify",
            "--scale",
            "smoke",
            "--run-dir",
            str(tmp_path / "o"),
            *extra,
        ]
    )
    err = capsys.readouterr().err
    assert code != 0 and re.search(match, err) and err.count("error:") == 1
    assert not (tmp_path / "o").exists()


def test_negative_ensemble_weights(gan_run, tmp_path, capsys):
    code = main(
        ["multigan-boosting", "ensemble", str(gan_run / "g0"), "--weights", "-1", "--out-file", str(tmp_path / "x.npz")]
    )
    assert code != 0 and ">= 0" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
