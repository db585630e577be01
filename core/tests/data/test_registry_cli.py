"""The dataset registry and `ganlab data list | show | prepare`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ganlab.core.cli import main
from ganlab.core.data import (
    DATASETS,
    EMBEDDED,
    GanDataset,
    TensorDataset,
    dataset_options,
    get_dataset,
    list_datasets,
    register_dataset,
)
from ganlab.core.errors import DatasetError, RegistryError

USER_DATASETS = (
    "mnist fashion_mnist mnist_fmnist svhn cifar10 cifar100 stl10 celeba lsun image_folder imagenet imagenet_lt "
    "coco_stuff hdf5"
).split()


def test_every_named_dataset_is_registered():
    names = list_datasets()
    assert names == sorted(names)
    assert set(EMBEDDED) | set(USER_DATASETS) <= set(names)


def test_unknown_dataset_lists_names_and_closest():
    with pytest.raises(RegistryError) as err:
        get_dataset("colord_mnist")
    msg = str(err.value)
    assert "colored_mnist" in msg and "did you mean 'colored_mnist'" in msg and "gaussians25" in msg


def test_unknown_option_and_split():
    with pytest.raises(DatasetError, match="did you mean 'rho'"):
        get_dataset("colored_mnist", rhoo=0.9)
    with pytest.raises(DatasetError, match="choose one of: train"):
        get_dataset("digits", split="validation")
    with pytest.raises(DatasetError, match="resolution"):
        get_dataset("digits", resolution=0)
    assert dataset_options("colored_mnist")["rho"] == 0.99


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_protocol(name):
    ds = get_dataset(name)
    assert isinstance(ds, GanDataset) and len(ds) > 0
    item = ds[len(ds) - 1]
    assert item["index"] == len(ds) - 1 and isinstance(item["label"], int)
    assert tuple(item["image"].shape) == ds.shape
    assert ds.labels.shape == (len(ds),) and ds.labels.dtype == np.int64
    assert (ds.groups is not None) == ("group" in item)
    assert isinstance(ds.fingerprint, str) and ds.fingerprint == get_dataset(name).fingerprint
    if len(ds.shape) == 3:
        assert item["image"].min() >= -1 and item["image"].max() <= 1
    if ds.num_classes:
        assert ds.labels.max() < ds.num_classes


def test_register_a_new_dataset():
    import torch

    name = "unit_test_ones"
    if name not in DATASETS:

        @register_dataset(name)
        def ones(root=None, split="train", resolution=None, *, n: int = 3):
            """Three white 4x4 images."""
            return TensorDataset(name, torch.ones(n, 1, 4, 4), np.zeros(n), num_classes=0, identity={"n": n})

    ds = get_dataset(name, n=5)
    assert len(ds) == 5 and float(ds[0]["image"].mean()) == 1.0
    with pytest.raises(RegistryError, match="twice"):
        register_dataset(name)(lambda **kw: None)


def test_cli_list(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in EMBEDDED + ("imagenet_lt", "hdf5"):
        assert name in out
    assert "rho=0.99" in out


def test_cli_show_image_grid(tmp_path, capsys):
    out = tmp_path / "grid.png"
    code = main(["data", "show", "colored_mnist", "--resolution", "32", "-o", "rho=0.9", "--out", str(out), "-n", "16"])
    assert code == 0
    text = capsys.readouterr().out
    info = json.loads(text[: text.rindex("}") + 1])
    assert info["size"] == 5000 and info["num_classes"] == 10 and info["group_counts"] == [4500, 500]
    with Image.open(out) as img:
        assert img.size == (4 * 34 + 2, 4 * 34 + 2)  # save_image: 4x4 grid of 32 px with 2 px padding


def test_cli_show_toy_scatter(tmp_path):
    out = tmp_path / "g.png"
    assert main(["data", "show", "gaussians25", "--out", str(out)]) == 0
    assert out.stat().st_size > 1000


def test_cli_errors_exit_2(tmp_path, capsys):
    assert main(["data", "show", "colord_mnist"]) == 2
    assert "did you mean 'colored_mnist'" in capsys.readouterr().err
    assert main(["data", "show", "colored_mnist", "-o", "rho=1.0", "--out", str(tmp_path / "x.png")]) == 2
    assert "(0.5, 1)" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    assert main(["data", "show", "cifar10", "--root", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "cifar-10-batches-py" in err and "--download" in err
    assert main(["data", "show", "digits", "-o", "rho"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(["data", "show", "digits", "--download"]) == 2


def test_cli_prepare(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / "src" / cls).mkdir(parents=True)
        for k in range(3):
            Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(tmp_path / "src" / cls / f"{k}.png")
    out = tmp_path / "x.hdf5"
    assert main(["data", "prepare", str(tmp_path / "src"), str(out), "--resolution", "8", "--chunk-size", "4"]) == 0
    ds = get_dataset("hdf5", root=str(out))
    assert len(ds) == 6 and ds.shape == (3, 8, 8) and ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert main(["data", "prepare", str(tmp_path / "nosuch"), str(tmp_path / "y.hdf5"), "--resolution", "8"]) == 2
    assert "does not exist" in capsys.readouterr().err
