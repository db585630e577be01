"""Each stand-in checked against its format's documentation, with no help from ganlab's readers.

Expected file names, header bytes, keys, shapes and dtypes are written out here from the formats' published
descriptions (MNIST's IDX page, the CIFAR page, SVHN's Format 2, STL-10's binary format, CelebA's annotation files,
ILSVRC-2012 and its Kaggle copy, COCO 2017, the LSUN release, the FFHQ repository).
"""

from __future__ import annotations

import gzip
import pickle
import pickletools
import re
import struct

import numpy as np
import pytest
from PIL import Image

from ganlab.core.data.standin import MARKER, write_standin


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    """name -> root of a small stand-in (written once per module)."""
    roots = {}

    def get(name, num, **options):
        key = (name, num, tuple(sorted(options.items())))
        if key not in roots:
            root = tmp_path_factory.mktemp(name)
            write_standin(name, root, num=num, seed=3, **options)
            roots[key] = root
        return roots[key]

    return get


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != MARKER)


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_idx_files(standins, name, folder):
    root = standins(name, 12)
    raw = root / folder / "raw"
    stems = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    assert files_under(root) == sorted(f"{folder}/raw/{s}{ext}" for s in stems for ext in ("", ".gz"))
    for prefix, n in (("train", 12), ("t10k", 3)):  # test split: a quarter, at least 2
        images = (raw / f"{prefix}-images-idx3-ubyte").read_bytes()
        labels = (raw / f"{prefix}-labels-idx1-ubyte").read_bytes()
        # magic 0x00000803 (unsigned byte, 3 dims) then n, 28, 28 big-endian; labels 0x00000801 then n
        assert images[:4] == b"\x00\x00\x08\x03" and struct.unpack(">III", images[4:16]) == (n, 28, 28)
        assert len(images) == 16 + n * 28 * 28
        assert labels[:4] == b"\x00\x00\x08\x01" and struct.unpack(">I", labels[4:8]) == (n,)
        assert len(labels) == 8 + n and max(labels[8:]) <= 9
        assert gzip.decompress((raw / f"{prefix}-images-idx3-ubyte.gz").read_bytes()) == images


def _opcodes(path):
    with open(path, "rb") as f:
        return {op.name if op.name != "GLOBAL" else f"GLOBAL {arg}" for op, arg, _ in pickletools.genops(f)}


def test_cifar10_python_pickles(standins):
    root = standins("cifar10", 20)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta", "readme.html"]
    assert files_under(root) == sorted(f"cifar-10-batches-py/{n}" for n in names)
    folder = root / "cifar-10-batches-py"
    for name in names[:6]:
        assert (folder / name).read_bytes()[:2] == b"\x80\x02"  # pickle protocol 2, as written by Python 2
        ops = _opcodes(folder / name)  # Python 2 str (SHORT_BINSTRING), not Python 3 bytes (_codecs.encode)
        assert "SHORT_BINSTRING" in ops and "GLOBAL _codecs encode" not in ops
        with open(folder / name, "rb") as f:
            d = pickle.load(f, encoding="bytes")  # the CIFAR page's unpickle()
        assert set(d) == {b"batch_label", b"labels", b"data", b"filenames"}
        n = 4 if name.startswith("data") else 5
        assert d[b"data"].dtype == np.uint8 and d[b"data"].shape == (n, 3072)
        assert len(d[b"labels"]) == n and all(isinstance(v, int) and 0 <= v <= 9 for v in d[b"labels"])
        assert d[b"batch_label"] in (b"training batch " + name[-1].encode() + b" of 5", b"testing batch 1 of 1")
    with open(folder / "batches.meta", "rb") as f:
        meta = pickle.load(f, encoding="bytes")
    assert set(meta) == {b"num_cases_per_batch", b"label_names", b"num_vis"} and meta[b"num_vis"] == 3072
    assert meta[b"label_names"][0] == b"airplane" and meta[b"label_names"][9] == b"truck"
    with open(folder / "data_batch_1", "rb") as f:  # torchvision's way: Python 2 str keys come back as str
        assert "data" in pickle.load(f, encoding="latin1")


def test_cifar100_python_pickles(standins):
    root = standins("cifar100", 16)
    assert files_under(root) == ["cifar-100-python/meta", "cifar-100-python/test", "cifar-100-python/train"]
    with open(root / "cifar-100-python" / "train", "rb") as f:
        d = pickle.load(f, encoding="bytes")
    assert set(d) == {b"filenames", b"batch_label", b"fine_labels", b"coarse_labels", b"data"}
    assert d[b"data"].shape == (16, 3072) and d[b"data"].dtype == np.uint8
    assert max(d[b"fine_labels"]) <= 99 and max(d[b"coarse_labels"]) <= 19
    with open(root / "cifar-100-python" / "meta", "rb") as f:
        meta = pickle.load(f, encoding="bytes")
    assert set(meta) == {b"fine_label_names", b"coarse_label_names"}
    assert len(meta[b"fine_label_names"]) == 100 and len(meta[b"coarse_label_names"]) == 20


def test_svhn_mat_files(standins):
    from scipy.io import loadmat

    root = standins("svhn", 12)
    assert files_under(root) == ["extra_32x32.mat", "test_32x32.mat", "train_32x32.mat"]
    assert (root / "train_32x32.mat").read_bytes()[:19] == b"MATLAB 5.0 MAT-file"  # a level-5 MAT file
    m = loadmat(root / "train_32x32.mat")
    assert m["X"].shape == (32, 32, 3, 12) and m["X"].dtype == np.uint8  # height, width, channel, image
    assert m["y"].shape == (12, 1) and 1 <= m["y"].min() and m["y"].max() <= 10  # 10 stands for the digit 0


def test_stl10_binary_files(standins):
    root = standins("stl10", 10)
    names = ["class_names.txt", "fold_indices.txt", "test_X.bin", "test_y.bin", "train_X.bin", "train_y.bin"]
    assert files_under(root) == sorted([f"stl10_binary/{n}" for n in [*names, "unlabeled_X.bin"]])
    folder = root / "stl10_binary"
    assert (folder / "train_X.bin").stat().st_size == 10 * 3 * 96 * 96  # raw bytes, no header
    y = np.fromfile(folder / "train_y.bin", dtype=np.uint8)
    assert y.shape == (10,) and 1 <= y.min() and y.max() <= 10  # 1-based classes
    assert (folder / "class_names.txt").read_text().split() == [
        "airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck",
    ]  # fmt: skip
    folds = (folder / "fold_indices.txt").read_text().splitlines()
    assert len(folds) == 10 and all(0 <= int(v) < 10 for line in folds for v in line.split())


def test_celeba_files(standins):
    root = standins("celeba", 10)
    base = root / "celeba"
    texts = ["identity_CelebA.txt", "list_attr_celeba.txt", "list_bbox_celeba.txt", "list_eval_partition.txt"]
    texts.append("list_landmarks_align_celeba.txt")
    images = [f"img_align_celeba/{i:06d}.jpg" for i in range(1, 11)]
    assert files_under(root) == sorted(f"celeba/{n}" for n in texts + images)
    assert (base / images[0]).read_bytes()[:2] == b"\xff\xd8"  # JPEG
    with Image.open(base / images[0]) as img:
        assert img.size == (178, 218) and img.mode == "RGB"  # width x height of the aligned crops
    lines = (base / "list_attr_celeba.txt").read_text().splitlines()
    names = lines[1].split()
    assert lines[0] == "10" and len(names) == 40 and len(lines) == 12
    assert names[0] == "5_o_Clock_Shadow" and names[20] == "Male" and names[31] == "Smiling" and names[39] == "Young"
    row = lines[2].split()
    assert row[0] == "000001.jpg" and len(row) == 41 and set(row[1:]) <= {"-1", "1"}
    part = [line.split() for line in (base / "list_eval_partition.txt").read_text().splitlines()]
    assert [p[0] for p in part] == [f"{i:06d}.jpg" for i in range(1, 11)] and [p[1] for p in part] == list("0000000012")
    bbox = (base / "list_bbox_celeba.txt").read_text().splitlines()
    assert bbox[:2] == ["10", "image_id x_1 y_1 width height"] and len(bbox[2].split()) == 5
    marks = (base / "list_landmarks_align_celeba.txt").read_text().splitlines()
    assert marks[1].split()[:2] == ["lefteye_x", "lefteye_y"] and len(marks[2].split()) == 11


def test_imagenet_train_tree_and_flat_val_with_loc_csv(standins):
    root = standins("imagenet", 12, classes=3)
    train = sorted((root / "train").iterdir())
    assert len(train) == 3 and all(re.fullmatch(r"n\d{8}", d.name) for d in train)
    for d in train:
        files = sorted(p.name for p in d.iterdir())
        assert len(files) == 4 and all(re.fullmatch(rf"{d.name}_\d+\.JPEG", f) for f in files)
    val = sorted(p.name for p in (root / "val").iterdir())
    assert val == [f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, 4)]  # flat, as distributed
    with Image.open(root / "val" / val[0]) as img:
        assert img.format == "JPEG" and max(img.size) == 500
    rows = (root / "LOC_val_solution.csv").read_text().splitlines()
    assert rows[0] == "ImageId,PredictionString" and len(rows) == 4
    for row in rows[1:]:
        image_id, prediction = row.split(",")
        tokens = prediction.split()
        assert re.fullmatch(r"ILSVRC2012_val_\d{8}", image_id) and len(tokens) % 5 == 0  # wnid x_min y_min x_max y_max
        assert tokens[0] in {d.name for d in train} and all(t.isdigit() for t in tokens[1:5])
    mapping = (root / "LOC_synset_mapping.txt").read_text().splitlines()
    assert [m.split()[0] for m in mapping] == [d.name for d in train]


def test_imagenet_devkit_ground_truth(standins):
    from scipy.io import loadmat

    root = standins("imagenet", 8, classes=2, val_labels="devkit")
    data = root / "ILSVRC2012_devkit_t12" / "data"
    synsets = loadmat(data / "meta.mat")["synsets"]
    assert set(synsets.dtype.names) >= {"ILSVRC2012_ID", "WNID", "words", "num_children"}
    leaves = [s for s in synsets[:, 0] if int(s["num_children"].squeeze()) == 0]
    assert sorted(int(s["ILSVRC2012_ID"].squeeze()) for s in leaves) == [1, 2]
    truth = (data / "ILSVRC2012_validation_ground_truth.txt").read_text().split()
    assert len(truth) == 2 and set(truth) <= {"1", "2"}  # one ILSVRC2012_ID per validation image, in order


def test_imagenet_lt_split_files(standins):
    root = standins("imagenet_lt", 20, classes=4)
    wnids = sorted(d.name for d in (root / "train").iterdir())
    counts = np.zeros(4, int)
    for split, folder in (("train", "train"), ("val", "train"), ("test", "val")):
        for line in (root / f"ImageNet_LT_{split}.txt").read_text().splitlines():
            path, label = line.split(" ")
            m = re.fullmatch(rf"{folder}/(n\d{{8}})/[\w.]+\.JPEG", path)
            assert m and wnids.index(m.group(1)) == int(label) and (root / path).is_file()
            counts[int(label)] += split == "train"
    assert counts[0] > counts[-1] >= 1 and (np.diff(counts) <= 0).all()  # long-tailed, head first


def test_coco_stuff_images_and_split_lists(standins):
    root = standins("coco_stuff", 8)
    train = sorted(p.name for p in (root / "train2017").iterdir())
    val = sorted(p.name for p in (root / "val2017").iterdir())
    assert len(train) == 8 and len(val) == 2 and all(re.fullmatch(r"\d{12}\.jpg", n) for n in train + val)
    assert sorted((root / "coco_stuff_train.txt").read_text().split()) == train
    seen = (root / "coco_stuff_val_seen.txt").read_text().split()
    unseen = (root / "coco_stuff_val_unseen.txt").read_text().split()
    assert sorted(seen + unseen) == val == sorted((root / "coco_stuff_val_eval.txt").read_text().split())


def test_lsun_lmdb_of_webp(standins):
    lmdb = pytest.importorskip("lmdb")
    root = standins("lsun", 6, category="church_outdoor")
    assert files_under(root) == [
        f"church_outdoor_{s}_lmdb/{f}" for s in ("train", "val") for f in ("data.mdb", "lock.mdb")
    ]
    env = lmdb.open(str(root / "church_outdoor_train_lmdb"), readonly=True, lock=False)
    with env.begin() as txn:
        items = list(txn.cursor())
    env.close()
    assert len(items) == 6
    import io

    for key, value in items:
        assert re.fullmatch(rb"[0-9a-f]{40}", key)  # image ids
        assert value[:4] == b"RIFF" and value[8:12] == b"WEBP"
        with Image.open(io.BytesIO(value)) as img:
            assert min(img.size) == 256


def test_ffhq_png_chunks(standins):
    root = standins("ffhq", 2)
    assert files_under(root) == ["images1024x1024/00000/00000.png", "images1024x1024/00000/00001.png"]
    path = root / "images1024x1024/00000/00001.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as img:
        assert img.size == (1024, 1024) and img.mode == "RGB"


def test_hdf5_keys_of_prepare(standins):
    import h5py

    root = standins("hdf5", 5, resolution=16)
    with h5py.File(root / "prepared_16.hdf5", "r") as f:
        assert f["imgs"].dtype == np.uint8 and f["imgs"].shape == (5, 3, 16, 16)
        assert f["labels"].dtype == np.int64 and f["labels"].shape == (5,)
        assert f.attrs["format"] == "ganlab-hdf5-v1" and f.attrs["resolution"] == 16
