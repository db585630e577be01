"""Any torch dataset or array under the ganlab dataset protocol, and content fingerprints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.core.data import TorchDatasetAdapter, from_arrays, from_torch, get_dataset
from ganlab.core.errors import DatasetError


class TupleDataset(torch.utils.data.Dataset):
    """(image, label) items without a targets attribute, images in [0, 1] as a bare ToTensor gives them."""

    def __init__(self, n: int = 10) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.rand(n, 3, 4, 4, generator=g)
        self.y = torch.arange(n) % 3

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


class PILDataset(torch.utils.data.Dataset):
    def __init__(self) -> None:
        self.arrays = np.random.default_rng(0).integers(0, 256, (6, 5, 5, 3), dtype=np.uint8)
        self.targets = [0, 1, 0, 1, 0, 1]

    def __len__(self) -> int:
        return len(self.arrays)

    def __getitem__(self, i):
        return Image.fromarray(self.arrays[i]), self.targets[i]


def test_torch_tensor_dataset_in_memory():
    x = torch.rand(8, 1, 6, 6) * 2 - 1
    ds = from_torch(torch.utils.data.TensorDataset(x, torch.arange(8) % 2), name="t")
    b = ds.get_batch([3, 0])
    assert torch.equal(b["image"], x[[3, 0]]) and b["label"].tolist() == [1, 0] and b["index"].tolist() == [3, 0]
    assert ds.num_classes == 2 and ds.shape == (1, 6, 6)


@pytest.mark.parametrize("in_memory", [True, False])
def test_tuple_dataset_with_a_declared_value_range(in_memory):
    src = TupleDataset()
    ds = from_torch(src, name="tup", value_range=(0, 1), in_memory=in_memory)
    assert isinstance(ds, TorchDatasetAdapter) != in_memory
    b = ds.get_batch([4, 1])
    torch.testing.assert_close(b["image"], src.x[[4, 1]] * 2 - 1)  # [0, 1] -> [-1, 1]
    assert b["label"].tolist() == [1, 1] and ds.num_classes == 3 and len(ds) == 10


def test_pil_images_and_targets():
    src = PILDataset()
    ds = from_torch(src, name="pil")
    b = ds.get_batch([2])
    expected = torch.from_numpy(src.arrays[2]).permute(2, 0, 1).float() / 127.5 - 1
    torch.testing.assert_close(b["image"][0], expected)
    assert ds.labels.tolist() == src.targets and ds.shape == (3, 5, 5)


def test_values_outside_the_declared_range_are_refused_not_guessed():
    with pytest.raises(DatasetError, match=r"outside the declared value_range \(-1, 1\).*value_range=\(0, 1\)"):
        from_torch(torch.utils.data.TensorDataset(torch.rand(4, 1, 2, 2) * 5), name="big")
    with pytest.raises(DatasetError, match="outside the declared"):
        from_torch(TupleDataset(), name="lazy", value_range=(-0.5, 0.5), in_memory=False)


def test_arrays_nhwc_uint8_and_bad_labels():
    imgs = np.random.default_rng(1).integers(0, 256, (5, 4, 4, 3), dtype=np.uint8)
    ds = from_arrays(imgs, [0, 1, 2, 1, 0])
    assert ds.shape == (3, 4, 4)
    torch.testing.assert_close(ds.get_batch([1])["image"][0], torch.from_numpy(imgs[1]).permute(2, 0, 1) / 127.5 - 1)
    with pytest.raises(DatasetError, match=r"5 images but 4 labels"):
        from_arrays(imgs, [0, 1, 2, 1])
    with pytest.raises(DatasetError, match=r"labels must lie in \[0, 2\)"):
        from_arrays(imgs, [0, 1, 2, 1, 0], num_classes=2)
    with pytest.raises(DatasetError, match="not a map-style dataset"):
        from_torch(object())


def test_fingerprint_follows_content():
    x = torch.rand(6, 1, 4, 4) * 2 - 1
    a, b = from_arrays(x, name="same"), from_arrays(x.clone(), name="same")
    y = x.clone()
    y[2, 0, 1, 1] = -y[2, 0, 1, 1]
    assert a.fingerprint == b.fingerprint != from_arrays(y, name="same").fingerprint
    lazy = from_torch(TupleDataset(), name="lz", value_range=(0, 1), in_memory=False)
    assert lazy.fingerprint == from_torch(TupleDataset(), name="lz", value_range=(0, 1), in_memory=False).fingerprint
    assert from_torch(TupleDataset(), name="lz", fingerprint="mine", in_memory=False).fingerprint == "mine"


def test_folder_fingerprint_changes_when_an_image_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    before = get_dataset("image_folder", root=str(folder), resolution=8).fingerprint
    assert get_dataset("image_folder", root=str(folder), resolution=8).fingerprint == before  # cached, unchanged
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(folder / "1.png")  # same name, new pixels
    assert get_dataset("image_folder", root=str(folder), resolution=8).fingerprint != before
