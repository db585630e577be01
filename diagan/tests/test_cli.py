"""``ganlab diagan train`` and ``ganlab diagan scores`` end to end on a tiny config."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ganlab.core.cli import main


def test_train_then_scores(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "data: {name: colored_mnist, resolution: 32, options: {num_data: 40, rho: 0.9}}\n"
        "model: {backbone: dcgan, options: {resolution: 32, channels: 3, z_dim: 8, ngf: 8, ndf: 8, sn: false}}\n"
        "train: {steps: 6, batch_size: 8, log_every: 0, sample_every: 0, checkpoint_every: 0, progress: false,"
        " tensorboard: false}\n"
        "method: {options: {phase1_steps: 4, window: 2, record_every: 1, k: 1.0}}\n"
    )
    assert main(["diagan", "train", str(cfg), f"out_dir={tmp_path}", "name=r"]) == 0
    run = tmp_path / "r"
    summary = json.loads(capsys.readouterr().out)
    assert summary["step"] == 6
    assert main(["diagan", "scores", str(run), "-n", "8", "--n-hist", "8"]) == 0
    rows = list(csv.DictReader(open(run / "scores" / "scores.csv")))
    assert len(rows) == 40
    scores = np.array([float(r["score"]) for r in rows])
    assert np.all(np.diff(scores) >= 0)  # sorted by score
    saved = np.load(run / "ldr" / "scores.npz")
    assert np.isclose(sum(float(r["prob"]) for r in rows), 1.0)
    np.testing.assert_allclose(np.sort(saved["score"]), scores, rtol=1e-6)
    for name in ("lowest.png", "highest.png", "generated.png", "histograms.png", "summary.json"):
        assert (run / "scores" / name).is_file()


def test_train_rejects_bad_k(tmp_path):
    from ganlab.core.errors import ConfigError

    with pytest.raises(ConfigError, match="k must be"):
        main(
            [
                "--traceback",
                "diagan",
                "train",
                f"out_dir={tmp_path}",
                "method.options.k=-1",
                "method.options.phase1_steps=2",
            ]
        )
