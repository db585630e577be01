"""LSUN with several labelled categories: the stand-in's layout read without ganlab (lmdb and PIL only), the reader's
labels and images against a decoding by hand, and the prepared HDF5 against the LMDB reader."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from ganlab.core.cli import main
from ganlab.core.data import get_dataset
from ganlab.core.data.standin import MARKER, write_standin
from ganlab.core.errors import DatasetError

lmdb = pytest.importorskip("lmdb")
pytest.importorskip("h5py")

# the ten scene categories of the LSUN release (its download tool's list), in its order
DOCUMENTED = (
    "bedroom bridge church_outdoor classroom conference_room dining_room kitchen living_room restaurant tower".split()
)


_READ: dict[str, list[tuple[bytes, bytes]]] = {}


def _items(folder):
    """(key, value) pairs of one LMDB database, in key order, read with the lmdb package alone (each database once:
    lmdb refuses to open an environment the reader under test holds open in this process)."""
    if str(folder) not in _READ:
        env = lmdb.open(str(folder), readonly=True, lock=False)
        with env.begin() as txn:
            _READ[str(folder)] = list(txn.cursor())
        env.close()
    return _READ[str(folder)]


def _read_all(root):
    for folder in sorted(root.glob("*_lmdb")):
        _items(folder)
    return root


def _by_hand(value: bytes, r: int) -> np.ndarray:
    """Decode, crop the centred square of side min(w, h), bilinear resize to r: uint8 (3, r, r)."""
    with Image.open(io.BytesIO(value)) as img:
        img = img.convert("RGB")
        w, h = img.size
        s = min(w, h)
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
        img = img.crop(box).resize((r, r), Image.BILINEAR)
        return np.asarray(img).transpose(2, 0, 1)


def _uint8(batch) -> np.ndarray:
    return ((batch["image"] + 1) * 127.5).round().numpy().astype(np.uint8)


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    root = tmp_path_factory.mktemp("lsun2")
    write_standin("lsun", root, num=5, seed=2, categories="bedroom,kitchen")
    return _read_all(root)


@pytest.fixture(scope="module")
def every(tmp_path_factory):
    root = tmp_path_factory.mktemp("lsun10")
    write_standin("lsun", root, num=2, seed=4, image_format="jpeg")
    return _read_all(root)


def test_standin_writes_one_database_per_category_and_split(two, every):
    files = sorted(p.relative_to(two).as_posix() for p in two.rglob("*") if p.is_file() and p.name != MARKER)
    assert files == [f"{c}_{s}_lmdb/{f}" for c in ("bedroom", "kitchen") for s in ("train", "val") for f in
                     ("data.mdb", "lock.mdb")]  # fmt: skip
    folders = sorted(p.name for p in every.iterdir() if p.is_dir())
    assert folders == sorted(f"{c}_{s}_lmdb" for c in DOCUMENTED for s in ("train", "val"))
    for cat, n_train, n_val in (("bedroom", 5, 2), ("kitchen", 5, 2)):
        assert len(_items(two / f"{cat}_train_lmdb")) == n_train and len(_items(two / f"{cat}_val_lmdb")) == n_val


@pytest.mark.parametrize(("which", "magic"), [("two", b"RIFF"), ("every", b"\xff\xd8\xff")])
def test_keys_are_image_ids_and_values_decode_as_images(two, every, which, magic):
    root = {"two": two, "every": every}[which]
    for key, value in _items(root / "kitchen_val_lmdb"):
        assert re.fullmatch(rb"[0-9a-f]{40}", key)
        assert value.startswith(magic)  # WebP (RIFF....WEBP) by default, JPEG with image_format=jpeg
        with Image.open(io.BytesIO(value)) as img:
            assert img.format == ("WEBP" if which == "two" else "JPEG") and min(img.size) == 256


def test_labels_follow_the_order_the_categories_are_listed_in(two):
    ds = get_dataset("lsun", root=str(two), split="train", resolution=16, categories=["kitchen", "bedroom"])
    assert ds.num_classes == 2 and ds.class_names == ["kitchen", "bedroom"]
    assert ds.labels.tolist() == [0] * 5 + [1] * 5
    expected = [_by_hand(v, 16) for cat in ("kitchen", "bedroom") for _, v in _items(two / f"{cat}_train_lmdb")]
    got = _uint8(ds.get_batch(np.arange(10)))
    assert np.abs(got.astype(int) - np.stack(expected).astype(int)).max() <= 1  # PIL vs antialiased resize rounding
    same = get_dataset("lsun", root=str(two), split="train", resolution=16, categories="kitchen,bedroom")
    assert same.labels.tolist() == ds.labels.tolist()
    # one category without `categories`: unlabelled, as before
    one = get_dataset("lsun", root=str(two), split="val", category="kitchen")
    assert (len(one), one.num_classes) == (2, 0)


def test_all_reads_the_ten_scene_categories_labelled_0_to_9(every):
    ds = get_dataset("lsun", root=str(every), split="val", resolution=8, categories="all")
    assert ds.class_names == DOCUMENTED and ds.labels.tolist() == [c for c in range(10) for _ in range(2)]
    mem = get_dataset("lsun", root=str(every), split="val", resolution=8, categories="all", in_memory=True)
    assert mem.labels.tolist() == ds.labels.tolist()
    assert np.array_equal(_uint8(mem.get_batch(np.arange(20))), _uint8(ds.get_batch(np.arange(20))))
    import torch

    loader = torch.utils.data.DataLoader(ds, batch_size=20, num_workers=1)  # the multi-database reader pickles
    batch = next(iter(loader))
    assert batch["label"].tolist() == ds.labels.tolist() and batch["image"].shape == (20, 3, 8, 8)


def test_prepared_hdf5_holds_the_same_images_and_labels(two, tmp_path):
    out = tmp_path / "lsun_train_16.hdf5"
    cmd = ["data", "prepare", str(two), str(out), "--resolution", "16", "--lsun", "kitchen,bedroom", "--split", "train"]
    assert main(cmd) == 0
    import h5py

    with h5py.File(out, "r") as f:
        assert f["imgs"].shape == (10, 3, 16, 16) and f["labels"][:].tolist() == [0] * 5 + [1] * 5
        assert f.attrs["lsun_split"] == "train"
    h = get_dataset("lsun", root=str(two), split="train", categories="kitchen,bedroom", hdf5=str(out))
    ds = get_dataset("lsun", root=str(two), split="train", resolution=16, categories="kitchen,bedroom")
    assert h.name == "lsun" and h.num_classes == 2 and h.class_names == ["kitchen", "bedroom"]
    assert h.labels.tolist() == ds.labels.tolist()
    assert np.array_equal(_uint8(h.get_batch(np.arange(10))), _uint8(ds.get_batch(np.arange(10))))
    with pytest.raises(DatasetError, match="not \\['bedroom', 'kitchen'\\]"):
        get_dataset("lsun", root=str(two), split="train", categories="bedroom,kitchen", hdf5=str(out))
    with pytest.raises(DatasetError, match="holds the 'train' split"):
        get_dataset("lsun", root=str(two), split="val", hdf5=str(out))
    with pytest.raises(DatasetError, match="ganlab data prepare .* --lsun bedroom --split val"):
        get_dataset("lsun", root=str(two), split="val", categories="bedroom", hdf5="missing.hdf5")


def test_bad_categories(two):
    with pytest.raises(DatasetError, match="'kitchen' is listed twice"):
        get_dataset("lsun", root=str(two), categories="kitchen,bedroom,kitchen")
    with pytest.raises(DatasetError, match="kichen_train_lmdb.*did you mean 'kitchen'"):
        get_dataset("lsun", root=str(two), categories="bedroom,kichen")
