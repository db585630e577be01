"""The README flow on a user's own image folder, through the ``ganlab`` CLI: features, neighbours, train, kmeans,
sample, transfer, and the parameter table; a bad input exits 2 with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ganlab.core.cli import main


@pytest.fixture
def photos(tmp_path, digits):
    folder = tmp_path / "photos"
    folder.mkdir()
    x = ((digits.get_batch(np.arange(120))["image"][:, 0] + 1) * 127.5).round().numpy().astype(np.uint8)
    for i, img in enumerate(x):
        Image.fromarray(img).convert("RGB").save(folder / f"{i:03d}.png")
    return folder


def test_readme_flow_on_an_image_folder(tmp_path, photos, capsys):
    run = tmp_path / "runs"
    feats, nbrs = tmp_path / "feats", tmp_path / "nbrs.npz"
    assert (
        main(
            [
                "icgan",
                "features",
                "--dataset",
                "image_folder",
                "--root",
                str(photos),
                "--resolution",
                "32",
                "--extractor",
                "random:resnet20",
                "--out-dir",
                str(feats),
                "--batch-size",
                "64",
            ]
        )
        == 0
    )
    assert main(["icgan", "neighbours", str(feats), "--k", "5", "--out-file", str(nbrs)]) == 0
    model = (
        "model.backbone=biggan",
        "model.options={resolution: 32, ch: 4, z_dim: 32, shared_dim: 16, "
        "feat_embed_dim: 16, g_attn: '0', d_attn: '0', num_classes: 0, feat_dim: 64}",
    )
    assert (
        main(
            [
                "icgan",
                "train",
                "data.name=image_folder",
                f"data.root={photos}",
                "data.resolution=32",
                *model,
                f"method.options.features={feats}",
                f"method.options.neighbours={nbrs}",
                "method.options.k=5",
                "train.steps=2",
                "train.batch_size=8",
                "train.progress=false",
                f"out_dir={run}",
                "name=mine",
            ]
        )
        == 0
    )
    assert main(["icgan", "kmeans", str(feats), "-n", "6", "--out-file", str(tmp_path / "stored.npz")]) == 0
    assert (
        main(
            [
                "icgan",
                "sample",
                str(run / "mine"),
                "--instances",
                str(tmp_path / "stored.npz"),
                "--rows",
                "4",
                "--out-file",
                str(tmp_path / "sheet.png"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "icgan",
                "transfer",
                str(run / "mine"),
                str(photos),
                "--limit",
                "3",
                "--out-file",
                str(tmp_path / "transfer.png"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "icgan",
                "evaluate",
                str(run / "mine"),
                "--instances",
                str(tmp_path / "stored.npz"),
                "--metrics",
                "fid",
                "precision",
                "recall",
                "--extractor",
                "random:resnet20",
                "--n-fake",
                "24",
                "--n-real",
                "24",
                "--seeds",
                "0",
                "1",
            ]
        )
        == 0
    )
    rows = json.loads((run / "mine" / "eval" / "results.json").read_text())
    assert len(rows) == 2 and rows[0]["n_fake"] == 24 and rows[0]["extractor"] == "random:resnet20"
    assert Image.open(tmp_path / "sheet.png").size[0] > 0 and Image.open(tmp_path / "transfer.png").size[0] > 0
    out = capsys.readouterr().out
    assert '"images": 3' in out and '"skipped": 0' in out


def test_params_table_and_a_bad_input(tmp_path, capsys):
    assert main(["icgan", "params"]) == 0
    out = capsys.readouterr().out
    assert "icgan_res64.json" in out and "False" not in out  # every official config matches exactly
    (tmp_path / "empty").mkdir()
    code = main(["icgan", "neighbours", str(tmp_path / "empty"), "--k", "5", "--out-file", str(tmp_path / "n.npz")])
    err = capsys.readouterr().err
    assert code == 2 and "features.json" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "n.npz").exists()
