"""Transfer: a folder's unreadable files are skipped and counted, a folder without images is refused; sheets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.core.errors import DatasetError
from ganlab.icgan.generate import class_swap_sheet, generate, instance_sheet
from ganlab.icgan.instances import StoredInstances
from ganlab.icgan.transfer import folder_instances, load_folder


def _folder(tmp_path, n=3, broken=1):
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(tmp_path / f"img{i}.png")
    for i in range(broken):
        (tmp_path / f"broken{i}.jpg").write_bytes(b"not an image")
    return tmp_path


def test_unreadable_files_are_skipped_and_counted(tmp_path):
    imgs = load_folder(_folder(tmp_path), 32, channels=1)
    assert imgs.images.shape == (3, 1, 32, 32) and len(imgs.skipped) == 1
    assert imgs.images.min() >= -1 and imgs.images.max() <= 1
    stored, _ = folder_instances(tmp_path, "random:lenet", resolution=32, channels=1)
    assert len(stored) == 3 and stored.meta["skipped"] == 1
    np.testing.assert_allclose(np.linalg.norm(stored.features, axis=1), 1.0, rtol=1e-5)


def test_a_folder_without_readable_images_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no image files"):
        load_folder(tmp_path / "empty", 32)
    with pytest.raises(DatasetError, match="none readable"):
        (tmp_path / "bad").mkdir()
        load_folder(_folder(tmp_path / "bad", n=0, broken=2), 32)


def test_sheets_and_generation_shapes(tiny):
    from ganlab.core.nn import build_backbone

    torch.manual_seed(0)
    spec = tiny.model(num_classes=10)
    G, _ = build_backbone(spec["backbone"], **spec["options"])
    G.eval()
    feats = torch.nn.functional.normalize(torch.randn(4, 84), dim=1)
    sheet = instance_sheet(G, feats, torch.zeros(4, 3, 40, 40), 3, labels=torch.arange(4))
    assert sheet.shape == (16, 1, 32, 32)
    swap = class_swap_sheet(G, feats[:2], [0, 1, 2])
    assert swap.shape == (6, 1, 32, 32)
    stored = StoredInstances(feats.numpy(), np.arange(4), np.tile(np.arange(4)[:, None], (1, 5)))
    out = generate(G, stored, 10, batch_size=4, seed=1)
    assert out["image"].shape == (10, 1, 32, 32) and out["label"].shape == (10,)
    np.testing.assert_array_equal(out["label"].numpy(), out["instance"].numpy())  # neighbour labels = instance id
    again = generate(G, stored, 10, batch_size=4, seed=1)
    torch.testing.assert_close(out["image"], again["image"])
