"""Stand-ins read through the ordinary readers (``get_dataset``), the checksum switch, and the writer's refusals."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from ganlab.core.cli import main
from ganlab.core.data import get_dataset
from ganlab.core.data.checksums import ENV_VAR, checksums_skipped, skip_checksums
from ganlab.core.data.standin import MARKER, STANDINS, write_standin
from ganlab.core.errors import DatasetError


def _uint8(ds, idx=None) -> np.ndarray:
    idx = np.arange(len(ds)) if idx is None else idx
    return ((ds.get_batch(idx)["image"] + 1) * 127.5).round().numpy().astype(np.uint8)


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    cache = {}

    def get(name, num, **options):
        key = (name, num, tuple(sorted(options.items())))
        if key not in cache:
            cache[key] = tmp_path_factory.mktemp(name)
            write_standin(name, cache[key], num=num, seed=1, **options)
        return cache[key]

    return get


# (name, num, options, split, expected size, image shape, number of classes)
CASES = [
    ("mnist", 12, {}, "train", 12, (1, 28, 28), 10),
    ("mnist", 12, {}, "test", 3, (1, 28, 28), 10),
    ("fashion_mnist", 12, {}, "train", 12, (1, 28, 28), 10),
    ("cifar10", 10, {}, "train", 10, (3, 32, 32), 10),
    ("cifar10", 10, {}, "test", 2, (3, 32, 32), 10),
    ("cifar100", 10, {}, "train", 10, (3, 32, 32), 100),
    ("svhn", 10, {}, "train", 10, (3, 32, 32), 10),
    ("svhn", 10, {}, "extra", 2, (3, 32, 32), 10),
    ("stl10", 6, {}, "train", 6, (3, 96, 96), 10),
    ("stl10", 6, {}, "unlabeled", 6, (3, 96, 96), 0),
    ("celeba", 10, {}, "train", 8, (3, 64, 64), 0),
    ("celeba", 10, {}, "all", 10, (3, 64, 64), 0),
    ("imagenet", 9, {"classes": 3}, "train", 9, (3, 64, 64), 3),
    ("imagenet", 9, {"classes": 3}, "val", 3, (3, 64, 64), 3),
    ("imagenet", 9, {"classes": 3, "val_labels": "devkit"}, "val", 3, (3, 64, 64), 3),
    ("imagenet", 9, {"classes": 3, "val_labels": "folders"}, "val", 3, (3, 64, 64), 3),
    ("imagenet_lt", 12, {"classes": 3}, "train", None, (3, 64, 64), 1000),
    ("imagenet_lt", 12, {"classes": 3}, "test", 6, (3, 64, 64), 1000),
    ("image_folder", 8, {"classes": 2}, "train", 8, (3, 64, 64), 2),
    ("coco_stuff", 6, {}, "train", 6, (3, 64, 64), 0),
    ("coco_stuff", 6, {}, "val", 2, (3, 64, 64), 0),
    ("lsun", 5, {}, "train", 5, (3, 64, 64), 0),
    ("lsun", 5, {}, "val", 2, (3, 64, 64), 0),
    ("ffhq", 2, {}, "train", 2, (3, 64, 64), 0),
]


@pytest.mark.parametrize(("name", "num", "options", "split", "size", "shape", "classes"), CASES)
def test_standin_reads_through_get_dataset(standin, name, num, options, split, size, shape, classes):
    if name == "lsun":
        pytest.importorskip("lmdb")
    root = standin(name, num, **options)
    with skip_checksums():
        ds = get_dataset(name, root=str(root), split=split)
    if size is not None:
        assert len(ds) == size
    assert ds.shape == shape and ds.num_classes == classes
    labels = ds.labels
    assert labels.min() >= 0 and labels.max() < max(classes, 1)
    batch = ds.get_batch(np.arange(min(len(ds), 3)))
    assert batch["image"].shape == (min(len(ds), 3), *shape)
    assert -1.0 <= batch["image"].min() and batch["image"].max() <= 1.0 and batch["image"].std() > 0.01


def test_cifar10_pixels_and_labels_as_documented(standin):
    root = standin("cifar10", 10)
    rows, labels = [], []
    for b in range(1, 6):
        with open(root / "cifar-10-batches-py" / f"data_batch_{b}", "rb") as f:
            d = pickle.load(f, encoding="bytes")
        rows.append(d[b"data"])
        labels += d[b"labels"]
    with skip_checksums():
        ds = get_dataset("cifar10", root=str(root))
    # the CIFAR page: each row holds the 1024 red values, then green, then blue, each plane row-major
    np.testing.assert_array_equal(_uint8(ds), np.concatenate(rows).reshape(-1, 3, 32, 32))
    np.testing.assert_array_equal(ds.labels, labels)


def test_svhn_and_stl10_decoding_as_documented(standin):
    from scipy.io import loadmat

    root = standin("svhn", 10)
    m = loadmat(root / "train_32x32.mat")
    root_stl = standin("stl10", 6)
    raw = np.fromfile(root_stl / "stl10_binary" / "train_X.bin", dtype=np.uint8).reshape(-1, 3, 96, 96)
    y = np.fromfile(root_stl / "stl10_binary" / "train_y.bin", dtype=np.uint8)
    with skip_checksums():
        svhn = get_dataset("svhn", root=str(root))
        stl = get_dataset("stl10", root=str(root_stl))
    np.testing.assert_array_equal(svhn.labels, m["y"][:, 0] % 10)  # 10 -> digit 0
    np.testing.assert_array_equal(_uint8(svhn), m["X"].transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(_uint8(stl), raw.transpose(0, 1, 3, 2))  # column-major planes
    np.testing.assert_array_equal(stl.labels, y.astype(int) - 1)


def test_imagenet_flat_val_labels_match_the_label_files(standin):
    for val_labels in ("loc", "devkit"):
        root = standin("imagenet", 9, classes=3, val_labels=val_labels)
        wnids = sorted(d.name for d in (root / "train").iterdir())
        if val_labels == "loc":
            rows = (root / "LOC_val_solution.csv").read_text().splitlines()[1:]
            expected = [wnids.index(r.split(",")[1].split()[0]) for r in rows]
        else:
            from scipy.io import loadmat

            data = root / "ILSVRC2012_devkit_t12" / "data"
            syn = loadmat(data / "meta.mat")["synsets"][:, 0]
            wnid_of = {int(s["ILSVRC2012_ID"].squeeze()): str(s["WNID"].squeeze()) for s in syn}
            truth = (data / "ILSVRC2012_validation_ground_truth.txt").read_text().split()
            expected = [wnids.index(wnid_of[int(t)]) for t in truth]
        ds = get_dataset("imagenet", root=str(root), split="val")
        assert ds.labels.tolist() == expected and ds.class_names == wnids


def test_lsun_reader_needs_no_working_directory_cache(standin, tmp_path, monkeypatch):
    pytest.importorskip("lmdb")
    monkeypatch.chdir(tmp_path)
    a = get_dataset("lsun", root=str(standin("lsun", 5)))
    b = get_dataset("lsun", root=str(standin("lsun", 4)))  # same letters in both paths, other digits
    assert (len(a), len(b)) == (5, 4) and not list(tmp_path.iterdir())
    import torch

    loader = torch.utils.data.DataLoader(a, batch_size=5, num_workers=1)  # the reader pickles into a worker
    assert next(iter(loader))["image"].shape == (5, 3, 64, 64)


def test_coco_split_file_named_in_a_config_is_found_beside_the_images(standin, tmp_path, monkeypatch):
    root = standin("coco_stuff", 6)
    monkeypatch.chdir(tmp_path)  # the config's bare name does not exist in the working directory
    ds = get_dataset("coco_stuff", root=str(root), split="val", split_file="coco_stuff_val_unseen.txt")
    assert len(ds) == 1


def test_checksums_are_skipped_in_one_place_only(standin, monkeypatch):
    import torchvision.datasets.cifar as tv_cifar

    root = standin("cifar10", 10)
    original = tv_cifar.check_integrity
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(DatasetError) as err:
        get_dataset("cifar10", root=str(root))  # the stand-in's bytes are not the published ones
    assert ENV_VAR in str(err.value)
    assert not checksums_skipped()
    with skip_checksums():
        assert checksums_skipped() and len(get_dataset("cifar10", root=str(root))) == 10
    assert tv_cifar.check_integrity is original and not checksums_skipped()
    monkeypatch.setenv(ENV_VAR, "1")
    assert len(get_dataset("cifar10", root=str(root))) == 10


def test_every_standin_is_a_registered_dataset():
    from ganlab.core.data import list_datasets

    assert set(STANDINS) <= set(list_datasets())


def test_refuses_a_folder_that_is_not_a_standin(tmp_path):
    real = tmp_path / "data"
    (real / "cifar-10-batches-py").mkdir(parents=True)
    (real / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"real bytes")
    before = sorted(p for p in real.rglob("*"))
    with pytest.raises(DatasetError, match="not a stand-in folder"):
        write_standin("cifar10", real, num=5)
    assert sorted(p for p in real.rglob("*")) == before  # nothing created or changed
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        write_standin("mnist", tmp_path / "a_file")
    with pytest.raises(DatasetError, match="no option 'colour'"):
        write_standin("imagenet", tmp_path / "new", colour="red")
    with pytest.raises(DatasetError, match="did you mean 'cifar10'"):
        write_standin("cifar1O", tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_a_standin_folder_takes_more_standins(tmp_path):
    write_standin("mnist", tmp_path, num=4)
    write_standin("fashion_mnist", tmp_path, num=5, seed=2)
    record = json.loads((tmp_path / MARKER).read_text())["stand_ins"]
    assert {k: (v["num"], v["seed"], v["options"]) for k, v in record.items()} == {
        "mnist": (4, 0, {}),
        "fashion_mnist": (5, 2, {}),
    }
    assert record["mnist"]["files"][0] == "MNIST/raw/t10k-images-idx3-ubyte" and len(record["mnist"]["files"]) == 8
    assert len(get_dataset("mnist_fmnist", root=str(tmp_path), rho=0.75)) == 4


def test_seed_fixes_the_content(tmp_path):
    write_standin("mnist", tmp_path / "a", num=4, seed=7)
    write_standin("mnist", tmp_path / "b", num=4, seed=7)
    write_standin("mnist", tmp_path / "c", num=4, seed=8)
    raw = "MNIST/raw/train-images-idx3-ubyte"
    assert (tmp_path / "a" / raw).read_bytes() == (tmp_path / "b" / raw).read_bytes()
    assert (tmp_path / "a" / raw).read_bytes() != (tmp_path / "c" / raw).read_bytes()


def test_cli_stand_in(tmp_path, capsys):
    assert main(["data", "stand-in", "svhn", "--root", str(tmp_path / "s"), "--num", "6", "--seed", "2"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["dataset"] == "svhn" and info["num"] == 6 and info["files"] == 3
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.png").write_bytes(b"")
    assert main(["data", "stand-in", "svhn", "--root", str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a stand-in" in err
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["x.png"]


def test_mnist_reads_gzipped_idx_files_alone(standin, tmp_path):
    import shutil

    src = standin("mnist", 12)
    shutil.copytree(src / "MNIST", tmp_path / "MNIST")
    for p in (tmp_path / "MNIST" / "raw").iterdir():
        if p.suffix != ".gz":
            p.unlink()  # as fetched from the MNIST page: only the .gz archives
    a, b = get_dataset("mnist", root=str(src)), get_dataset("mnist", root=str(tmp_path))
    np.testing.assert_array_equal(_uint8(a), _uint8(b))
    np.testing.assert_array_equal(a.labels, b.labels)
    raw = (src / "MNIST/raw/train-images-idx3-ubyte").read_bytes()  # the IDX page: pixels follow a 16-byte header
    np.testing.assert_array_equal(_uint8(a)[:, 0], np.frombuffer(raw[16:], np.uint8).reshape(12, 28, 28))


def test_writing_a_standin_again_replaces_its_files(tmp_path):
    write_standin("imagenet", tmp_path, num=4, classes=2, seed=0)
    first = sorted(d.name for d in (tmp_path / "train").iterdir())
    write_standin("imagenet", tmp_path, num=6, classes=3, seed=1)  # other wnids: the old class folders must go
    second = sorted(d.name for d in (tmp_path / "train").iterdir())
    assert len(second) == 3 and not set(first) & set(second)
    ds = get_dataset("imagenet", root=str(tmp_path))
    assert len(ds) == 6 and ds.class_names == second
