"""A run pointed at a folder in another layout stops with one message: what is wrong, the layout expected, where
the real data comes from, and the ``ganlab data stand-in NAME --root DIR`` command."""

from __future__ import annotations

import pytest
from PIL import Image

from ganlab.core.cli import main
from ganlab.core.data import get_dataset
from ganlab.core.data.checksums import skip_checksums
from ganlab.core.data.standin import write_standin
from ganlab.core.errors import DatasetError


def _pngs(folder, n=3, ext="png"):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (40, 30), (i * 60, 20, 90)).save(folder / f"img_{i}.{ext}")


def _message(name, root, **kwargs) -> str:
    with pytest.raises(DatasetError) as err:
        get_dataset(name, root=str(root), **kwargs)
    msg = str(err.value)
    assert "\n" not in msg and f"`ganlab data stand-in {name} --root {root}`" in msg
    return msg


def test_imagenet_without_class_folders(tmp_path):
    _pngs(tmp_path / "train", ext="JPEG")
    msg = _message("imagenet", tmp_path)
    assert "without class sub-folders" in msg and "train/<wnid>/*.JPEG" in msg and "image-net.org" in msg


def test_imagenet_flat_val_without_label_file(tmp_path):
    write_standin("imagenet", tmp_path, num=4, classes=2)
    (tmp_path / "LOC_val_solution.csv").unlink()
    msg = _message("imagenet", tmp_path, split="val")
    assert "no label file (LOC_val_solution.csv or ILSVRC2012_devkit_t12/)" in msg
    assert len(get_dataset("imagenet", root=str(tmp_path))) == 4  # train is still fine


def test_imagenet_val_label_file_missing_an_image(tmp_path):
    write_standin("imagenet", tmp_path, num=4, classes=2)
    csv = tmp_path / "LOC_val_solution.csv"
    csv.write_text("\n".join(csv.read_text().splitlines()[:-1]) + "\n")  # drop the last image's row
    assert "gives no label for" in _message("imagenet", tmp_path, split="val")


@pytest.mark.parametrize("skip", [False, True])
def test_cifar_folder_holding_pngs(tmp_path, skip):
    _pngs(tmp_path / "cifar-10-batches-py")
    with skip_checksums() if skip else _nothing():
        msg = _message("cifar10", tmp_path)
    assert "data_batch_1..data_batch_5,test_batch,batches.meta" in msg and "not PNG files" in msg
    assert "cs.toronto.edu" in msg and "does not hold it in the layout" in msg


def test_cifar_pngs_named_as_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _pngs(folder)
    for i, p in enumerate(sorted(folder.iterdir())):
        p.rename(folder / ["data_batch_1", "data_batch_2", "data_batch_3"][i])
    for name in ("data_batch_4", "data_batch_5", "test_batch", "batches.meta"):
        (folder / name).write_bytes((folder / "data_batch_1").read_bytes())
    with skip_checksums():
        msg = _message("cifar10", tmp_path)  # the pickle reader fails on PNG bytes: still one message
    assert "UnpicklingError" in msg or "pickle" in msg.lower()


@pytest.mark.parametrize("skip", [False, True])
def test_celeba_without_attribute_list(tmp_path, skip):
    write_standin("celeba", tmp_path, num=5)
    (tmp_path / "celeba" / "list_attr_celeba.txt").unlink()
    with skip_checksums() if skip else _nothing():
        msg = _message("celeba", tmp_path)
    assert "list_attr_celeba.txt" in msg and "mmlab.ie.cuhk.edu.hk" in msg


def test_other_readers_name_their_layout(tmp_path):
    _pngs(tmp_path / "flat")
    assert "images1024x1024/00000/00000.png" in _message("ffhq", tmp_path / "flat")
    assert "train2017" in _message("coco_stuff", tmp_path / "flat")
    assert "ImageNet_LT_train.txt" in _message("imagenet_lt", tmp_path / "flat")
    pytest.importorskip("lmdb")
    assert "bedroom_train_lmdb" in _message("lsun", tmp_path / "flat")


def test_cli_prints_one_line(tmp_path, capsys):
    _pngs(tmp_path / "train", ext="JPEG")
    assert main(["data", "show", "imagenet", "--root", str(tmp_path), "--out-file", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ganlab data stand-in imagenet" in err and not (tmp_path / "g.png").exists()


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_mnist_folder_holding_pngs_under_idx_names(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    _pngs(raw, n=2)
    (raw / "img_0.png").rename(raw / "train-images-idx3-ubyte")
    (raw / "img_1.png").rename(raw / "train-labels-idx1-ubyte")
    msg = _message("mnist", tmp_path)
    assert "does not hold IDX files" in msg and "{train,t10k}-images-idx3-ubyte" in msg
