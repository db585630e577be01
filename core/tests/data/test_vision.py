"""torchvision-backed datasets on tiny fake files in their real formats, and the 'not downloaded' errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.core.data import get_dataset
from ganlab.core.errors import DatasetError, MissingDependencyError


def _uint8(ds) -> np.ndarray:
    return ((ds.get_batch(np.arange(len(ds)))["image"] + 1) * 127.5).round().numpy().astype(np.uint8)


def test_mnist_from_raw_idx(fake_mnist_root):
    root, images, labels = fake_mnist_root
    ds = get_dataset("mnist", root=str(root))
    assert len(ds) == 120 and ds.shape == (1, 28, 28) and ds.num_classes == 10
    np.testing.assert_array_equal(_uint8(ds)[:, 0], images)
    np.testing.assert_array_equal(ds.labels, labels)
    assert len(get_dataset("mnist", root=str(root), split="test")) == 10
    assert get_dataset("mnist", root=str(root), resolution=32).shape == (1, 32, 32)


def test_mnist_fmnist_mixture(fake_mnist_fmnist_root):
    root, (m_img, m_lab, _, _), (f_img, f_lab, _, _) = fake_mnist_fmnist_root
    for rho, major in [(0.99, 148), (0.95, 142), (0.9, 135)]:  # N = min(200, 150) = 150; int(150 * rho)
        ds = get_dataset("mnist_fmnist", root=str(root), rho=rho)
        assert len(ds) == 150 and np.bincount(ds.groups).tolist() == [major, 150 - major]
    x = _uint8(ds)[:, 0]
    minor = ds.groups == 1
    np.testing.assert_array_equal(x[minor], f_img[:150][minor])  # FMNIST image at the same index
    np.testing.assert_array_equal(x[~minor], m_img[:150][~minor])
    np.testing.assert_array_equal(ds.labels, np.where(minor, f_lab[:150], m_lab[:150]))
    assert len(get_dataset("fashion_mnist", root=str(root))) == 150
    with pytest.raises(DatasetError, match=r"\(0.5, 1\)"):
        get_dataset("mnist_fmnist", root=str(root), rho=0.4)


def test_mnist_fmnist_needs_both(fake_mnist_root):
    root, _, _ = fake_mnist_root
    with pytest.raises(DatasetError, match="FashionMNIST"):
        get_dataset("mnist_fmnist", root=str(root))


def _no_md5(monkeypatch, module: str) -> None:
    """Fake files cannot match torchvision's md5 sums; check existence only."""
    import importlib
    import os

    monkeypatch.setattr(importlib.import_module(module), "check_integrity", lambda path, md5=None: os.path.isfile(path))


def test_cifar10_from_python_pickles(tmp_path, monkeypatch):
    _no_md5(monkeypatch, "torchvision.datasets.cifar")
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (4, 3 * 32 * 32), dtype=np.uint8)  # rows: R plane, G plane, B plane
        labels = rng.integers(0, 10, 4).tolist()
        batches[name] = (data, labels)
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": labels}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f)
    ds = get_dataset("cifar10", root=str(tmp_path))
    assert len(ds) == 20 and ds.shape == (3, 32, 32) and ds.class_names[3] == "c3"
    expected = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)]).reshape(20, 3, 32, 32)
    np.testing.assert_array_equal(_uint8(ds), expected)
    np.testing.assert_array_equal(ds.labels, sum((batches[f"data_batch_{i}"][1] for i in range(1, 6)), []))
    assert len(get_dataset("cifar10", root=str(tmp_path), split="test")) == 4


def test_svhn_from_mat(tmp_path, monkeypatch):
    from scipy.io import savemat

    _no_md5(monkeypatch, "torchvision.datasets.svhn")
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (32, 32, 3, 5), dtype=np.uint8)  # the .mat layout: H, W, C, N
    y = np.array([[10], [1], [2], [10], [9]], dtype=np.uint8)  # '10' is the digit 0
    savemat(tmp_path / "train_32x32.mat", {"X": x, "y": y})
    ds = get_dataset("svhn", root=str(tmp_path))
    np.testing.assert_array_equal(ds.labels, [0, 1, 2, 0, 9])
    np.testing.assert_array_equal(_uint8(ds), x.transpose(3, 2, 0, 1))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mnist", "MNIST/raw"),
        ("fashion_mnist", "FashionMNIST/raw"),
        ("cifar10", "cifar-10-batches-py"),
        ("cifar100", "cifar-100-python"),
        ("svhn", "train_32x32.mat"),
        ("stl10", "stl10_binary"),
        ("celeba", "celeba"),
    ],
)
def test_not_downloaded_says_where_and_how(tmp_path, name, expected):
    with pytest.raises(DatasetError) as err:
        get_dataset(name, root=str(tmp_path / "empty"))
    msg = str(err.value)
    assert expected in msg and "--download" in msg and str(tmp_path / "empty") in msg
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").rglob("*.gz"))  # nothing fetched


def test_lsun_needs_lmdb_or_folder(tmp_path):
    try:
        import lmdb  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match="pip install lmdb"):
            get_dataset("lsun", root=str(tmp_path))
    else:
        with pytest.raises(DatasetError, match="bedroom_train_lmdb"):
            get_dataset("lsun", root=str(tmp_path))


def test_in_memory_batch_is_one_gather(fake_mnist_root):
    root, images, _ = fake_mnist_root
    ds = get_dataset("mnist", root=str(root))
    idx = torch.tensor([5, 0, 5, 119])
    out = ds.get_batch(idx)
    assert out["image"].shape == (4, 1, 28, 28) and out["image"].dtype == torch.float32
    np.testing.assert_array_equal(out["index"].numpy(), idx.numpy())
    assert torch.equal(out["image"][0], out["image"][2])


def test_celeba_with_attributes(tmp_path, monkeypatch):
    _no_md5(monkeypatch, "torchvision.datasets.celeba")
    base = tmp_path / "celeba"
    (base / "img_align_celeba").mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, 6)]
    colours = [(250, 0, 0), (0, 250, 0), (0, 0, 250), (90, 90, 90), (10, 200, 30)]
    for name, colour in zip(names, colours):
        Image.new("RGB", (178, 218), colour).save(base / "img_align_celeba" / name, quality=100)
    attrs = np.array([[1, -1, 1], [-1, -1, 1], [1, 1, -1], [-1, 1, 1], [1, 1, 1]])
    header = "Bald Male Smiling "
    rows = [f"{n} " + " ".join(f"{v:2d}" for v in a) for n, a in zip(names, attrs)]
    (base / "list_attr_celeba.txt").write_text("\n".join(["5", header, *rows]) + "\n")
    (base / "list_eval_partition.txt").write_text("\n".join(f"{n} {p}" for n, p in zip(names, [0, 0, 0, 1, 2])) + "\n")
    (base / "identity_CelebA.txt").write_text("\n".join(f"{n} {k}" for k, n in enumerate(names)) + "\n")
    (base / "list_bbox_celeba.txt").write_text(
        "5\nimage_id x_1 y_1 width height\n" + "\n".join(f"{n} 0 0 1 1" for n in names) + "\n"
    )
    (base / "list_landmarks_align_celeba.txt").write_text(
        "5\nlefteye_x lefteye_y\n" + "\n".join(f"{n} 1 1" for n in names) + "\n"
    )
    ds = get_dataset("celeba", root=str(tmp_path), label_attr="Male", group_attr="Bald", resolution=16)
    assert len(ds) == 3 and ds.shape == (3, 16, 16) and ds.num_classes == 2
    assert ds.attribute_names == ["Bald", "Male", "Smiling"]
    np.testing.assert_array_equal(ds.attributes, (attrs[:3] + 1) // 2)
    assert ds.labels.tolist() == [0, 0, 1] and ds.groups.tolist() == [1, 0, 1]
    img = _uint8(ds)
    np.testing.assert_allclose(img[0].reshape(3, -1).mean(1), colours[0], atol=3)  # JPEG rounding only
    assert len(get_dataset("celeba", root=str(tmp_path), split="all")) == 5
    with pytest.raises(DatasetError, match="attributes are: Bald, Male, Smiling"):
        get_dataset("celeba", root=str(tmp_path), label_attr="Beard")


def test_stl10_binary(tmp_path, monkeypatch):
    _no_md5(monkeypatch, "torchvision.datasets.stl10")
    folder = tmp_path / "stl10_binary"
    folder.mkdir()
    rng = np.random.default_rng(3)
    imgs = {}
    for name, n in [("train", 3), ("test", 2), ("unlabeled", 2)]:
        x = rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8)  # (N, C, H, W)
        imgs[name] = x
        # the .bin layout is column-major per channel: (N, C, W, H)
        (folder / f"{name}_X.bin").write_bytes(np.ascontiguousarray(x.transpose(0, 1, 3, 2)).tobytes())
    (folder / "train_y.bin").write_bytes(np.array([1, 10, 5], np.uint8).tobytes())  # 1-based on disk
    (folder / "test_y.bin").write_bytes(np.array([2, 3], np.uint8).tobytes())
    ds = get_dataset("stl10", root=str(tmp_path), resolution=48)
    assert ds.shape == (3, 48, 48) and ds.labels.tolist() == [0, 9, 4] and ds.num_classes == 10
    full = get_dataset("stl10", root=str(tmp_path))
    np.testing.assert_array_equal(_uint8(full), imgs["train"])
    unl = get_dataset("stl10", root=str(tmp_path), split="train+unlabeled")
    assert len(unl) == 5 and unl.num_classes == 0 and not unl.labels.any()
