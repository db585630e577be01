"""Image folders, ImageNet-LT split files, COCO-Stuff folders, the HDF5 format and `prepare`."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from ganlab.core.data import get_dataset, prepare_hdf5, subset
from ganlab.core.errors import DatasetError

SIZES = [(40, 30), (30, 50), (64, 64), (25, 70), (90, 45), (33, 33)]


def _write_images(folder: Path, names: list[str], seed: int) -> list[Path]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, name in enumerate(names):
        w, h = SIZES[k % len(SIZES)]
        arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        path = folder / name
        Image.fromarray(arr).save(path)
        out.append(path)
    return out


def _reference(path: Path, r: int) -> np.ndarray:
    """Independent centre-crop + resize: PIL's ImageOps.fit crops to the target aspect around the centre."""
    with Image.open(path) as img:
        fitted = ImageOps.fit(img.convert("RGB"), (r, r), method=Image.BILINEAR, centering=(0.5, 0.5))
    return np.asarray(fitted).transpose(2, 0, 1)


def _uint8(batch) -> np.ndarray:
    return ((batch["image"] + 1) * 127.5).round().numpy().astype(np.uint8)


@pytest.fixture
def image_tree(tmp_path):
    """root/train/<class>/*.png: 2 classes, 3 images each, different sizes and aspect ratios."""
    root = tmp_path / "imgs"
    paths = _write_images(root / "train" / "cat", ["a.png", "b.png", "c.png"], 0)
    paths += _write_images(root / "train" / "dog", ["d.png", "e.png", "f.jpg"], 1)
    return root, paths


def test_image_folder_labels_and_crop(image_tree):
    root, paths = image_tree
    ds = get_dataset("image_folder", root=str(root), resolution=16)
    assert len(ds) == 6 and ds.shape == (3, 16, 16) and ds.num_classes == 2
    assert ds.class_names == ["cat", "dog"] and ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    got = _uint8(ds.get_batch(np.arange(6)))
    for k, p in enumerate(paths):
        diff = np.abs(got[k].astype(int) - _reference(p, 16).astype(int))
        # ImageOps.fit resamples from beyond the crop box at the border; BigGAN crops first, so compare the interior
        assert diff[:, 1:-1, 1:-1].max() <= 2 and diff.mean() < 2
    unlabelled = get_dataset("image_folder", root=str(root), labelled=False, resolution=16)
    assert unlabelled.num_classes == 0 and not unlabelled.labels.any()


def test_uniform_image_keeps_its_colour(tmp_path):
    Image.new("RGB", (50, 20), (200, 10, 90)).save(tmp_path / "x.png")
    ds = get_dataset("image_folder", root=str(tmp_path), resolution=8)
    assert ds.num_classes == 0
    assert (_uint8(ds.get_batch([0]))[0].reshape(3, -1).T == [200, 10, 90]).all()


def test_imagenet_lt_split_file(tmp_path):
    root = tmp_path / "ImageNet"
    _write_images(root / "train" / "n001", ["x1.png", "x2.png"], 2)
    _write_images(root / "train" / "n002", ["y1.png"], 3)
    (root / "ImageNet_LT_train.txt").write_text("train/n001/x1.png 0\ntrain/n002/y1.png 7\n\ntrain/n001/x2.png 0\n")
    ds = get_dataset("imagenet_lt", root=str(root), resolution=8)
    assert len(ds) == 3 and ds.labels.tolist() == [0, 7, 0] and ds.num_classes == 1000
    assert ds.get_batch([1])["image"].shape == (1, 3, 8, 8)
    with pytest.raises(DatasetError, match="ImageNet_LT_val.txt") as err:
        get_dataset("imagenet_lt", root=str(root), split="val")
    assert "OLTR" in str(err.value)
    (root / "ImageNet_LT_test.txt").write_text("train/n003/zz.png 1\n")
    with pytest.raises(DatasetError, match="not on disk"):
        get_dataset("imagenet_lt", root=str(root), split="test")


def test_coco_stuff_folder_and_split_file(tmp_path):
    _write_images(tmp_path / "train2017", ["1.jpg", "2.jpg", "3.jpg"], 4)
    ds = get_dataset("coco_stuff", root=str(tmp_path), resolution=8)
    assert len(ds) == 3 and ds.num_classes == 0
    (tmp_path / "lostgan_train.txt").write_text("3.jpg\n1.jpg\n")
    sub = get_dataset("coco_stuff", root=str(tmp_path), resolution=8, split_file=str(tmp_path / "lostgan_train.txt"))
    assert [Path(p).name for p in sub.paths] == ["3.jpg", "1.jpg"]
    with pytest.raises(DatasetError, match="val2017"):
        get_dataset("coco_stuff", root=str(tmp_path), split="val")


def test_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="image-net.org"):
        get_dataset("imagenet", root=str(tmp_path))
    with pytest.raises(DatasetError, match="no images"):
        (tmp_path / "empty").mkdir()
        get_dataset("image_folder", root=str(tmp_path / "empty"))
    with pytest.raises(DatasetError, match="needs root"):
        get_dataset("image_folder")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.png").write_bytes(b"not a png")
    ds = get_dataset("image_folder", root=str(tmp_path / "bad"))
    with pytest.raises(DatasetError, match="broken.png"):
        ds.get_batch([0])


def test_prepare_streams_to_hdf5(image_tree, tmp_path):
    root, _ = image_tree
    out = tmp_path / "out" / "train64.hdf5"
    info = prepare_hdf5(root / "train", out, 16, chunk_size=4, progress=False)
    assert info == {"path": str(out), "size": 6, "resolution": 16, "num_classes": 2}
    assert not out.with_name(out.name + ".tmp").exists()
    folder = get_dataset("image_folder", root=str(root), resolution=16)
    with h5py.File(out, "r") as f:
        assert f["imgs"].dtype == np.uint8 and f["imgs"].shape == (6, 3, 16, 16)
        assert f["imgs"].chunks[0] == 4  # written chunk by chunk
        np.testing.assert_array_equal(f["imgs"][:], _uint8(folder.get_batch(np.arange(6))))
        np.testing.assert_array_equal(f["labels"][:], folder.labels)
    ds = get_dataset("hdf5", root=str(out))
    assert ds.class_names == ["cat", "dog"] and ds.num_classes == 2 and ds.shape == (3, 16, 16)
    idx = np.array([5, 1, 5, 0])  # unsorted, with a repeat: h5py needs sorted unique reads
    lazy = ds.get_batch(idx)
    mem = get_dataset("hdf5", root=str(out), in_memory=True).get_batch(idx)
    assert torch.equal(lazy["image"], mem["image"])
    assert torch.equal(lazy["image"], folder.get_batch(idx)["image"])
    np.testing.assert_array_equal(lazy["label"].numpy(), folder.labels[idx])
    assert get_dataset("hdf5", root=str(out), resolution=8).get_batch([0])["image"].shape == (1, 3, 8, 8)


def test_prepare_split_file_and_failure_leaves_nothing(tmp_path):
    base = tmp_path / "IN"
    _write_images(base / "train" / "a", ["1.png", "2.png", "3.png"], 5)
    split = tmp_path / "ImageNet_LT_train.txt"
    split.write_text("train/a/2.png 4\ntrain/a/1.png 9\n")
    out = tmp_path / "lt.hdf5"
    prepare_hdf5(base, out, 8, split_file=split, chunk_size=1, progress=False)
    with h5py.File(out, "r") as f:
        assert f["labels"][:].tolist() == [4, 9] and f.attrs["num_classes"] == 10
    (base / "train" / "a" / "4.png").write_bytes(b"garbage")
    bad = tmp_path / "bad.hdf5"
    with pytest.raises(DatasetError, match="4.png"):
        prepare_hdf5(base / "train", bad, 8, chunk_size=2, progress=False)
    assert not bad.exists() and not bad.with_name("bad.hdf5.tmp").exists()


def test_hdf5_missing_file_says_how(tmp_path):
    with pytest.raises(DatasetError, match="ganlab data prepare"):
        get_dataset("hdf5", root=str(tmp_path / "nope.hdf5"))


def test_subset_view(image_tree):
    root, _ = image_tree
    ds = get_dataset("image_folder", root=str(root), resolution=8)
    view = subset(ds, [4, 1])
    assert len(view) == 2 and view.labels.tolist() == [1, 0] and view.fingerprint != ds.fingerprint
    b = view.get_batch([1, 0])
    assert b["index"].tolist() == [1, 0]
    assert torch.equal(b["image"], ds.get_batch([1, 4])["image"])


def test_hdf5_in_dataloader_workers(image_tree, tmp_path):
    root, _ = image_tree
    out = tmp_path / "w.hdf5"
    prepare_hdf5(root / "train", out, 8, progress=False)
    ds = get_dataset("hdf5", root=str(out))
    ds.get_batch([0])  # opens the file in this process; workers must reopen their own handle
    loader = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2, shuffle=False)
    batches = list(loader)
    assert torch.cat([b["index"] for b in batches]).tolist() == list(range(6))
    assert torch.equal(torch.cat([b["image"] for b in batches]), ds.get_batch(np.arange(6))["image"])
