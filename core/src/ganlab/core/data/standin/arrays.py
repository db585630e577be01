"""Stand-ins of the array formats: MNIST's IDX files, the CIFAR pickles, SVHN's .mat files, STL-10's .bin files and
ganlab's HDF5 file. Each writer takes ``(root, num, rng, **options)``, writes ``num`` training images (other splits
get about a quarter as many) with uniform random pixels and labels, and returns the paths it wrote."""

from __future__ import annotations

import gzip
import json
import pickle
import struct
from pathlib import Path

import numpy as np

from .content import noise_images

CIFAR10_CLASSES = "airplane automobile bird cat deer dog frog horse ship truck".split()
STL10_CLASSES = "airplane bird car cat deer dog horse monkey ship truck".split()


def _other(num: int) -> int:
    return max(2, num // 4)


# ---- MNIST / Fashion-MNIST: IDX files ---------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX format: two zero bytes, the type code (0x08 = unsigned byte), the number of dimensions, then each
    dimension as a big-endian int32, then the data in row-major order."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _write_idx_pair(raw: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> list[Path]:
    written = []
    for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
        data = idx_bytes(array)
        path = raw / f"{prefix}-{kind}-ubyte"
        path.write_bytes(data)
        with gzip.open(raw / f"{path.name}.gz", "wb") as f:  # torchvision keeps the archives beside the files
            f.write(data)
        written += [path, raw / f"{path.name}.gz"]
    return written


def write_mnist_like(root: Path, num: int, rng: np.random.Generator, folder: str = "MNIST") -> list[Path]:
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    written = []
    for prefix, n in (("train", num), ("t10k", _other(num))):
        images = noise_images(rng, (n, 28, 28))
        labels = rng.integers(0, 10, n).astype(np.uint8)
        written += _write_idx_pair(raw, prefix, images, labels)
    return written


def write_mnist(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    return write_mnist_like(root, num, rng, "MNIST")


def write_fashion_mnist(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    return write_mnist_like(root, num, rng, "FashionMNIST")


def write_mnist_fmnist(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    return write_mnist_like(root, num, rng, "MNIST") + write_mnist_like(root, num, rng, "FashionMNIST")


# ---- CIFAR: Python 2 pickles ------------------------------------------------------------------------------------


class _Py2Pickler(pickle._Pickler):
    """Protocol 2 with ``bytes`` written as Python 2 ``str`` (BINSTRING opcodes), as the CIFAR files were written:
    ``pickle.load(f, encoding="bytes")`` gives ``b"data"`` keys, ``encoding="latin1"`` gives ``"data"``."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj, path: Path) -> None:
    with open(path, "wb") as f:
        _Py2Pickler(f, protocol=2).dump(obj)


def _cifar_batch(rng, n: int, label_key: str, num_classes: int, batch_label: str, coarse: bool = False) -> dict:
    data = noise_images(rng, (n, 3 * 32 * 32))  # each row: the 1024 red, then green, then blue values, row-major
    labels = rng.integers(0, num_classes, n)
    out = {
        b"batch_label": batch_label.encode(),
        label_key.encode(): [int(v) for v in labels],
        b"data": data,
        b"filenames": [f"standin_s_{i:06d}.png".encode() for i in range(n)],
    }
    if coarse:
        out[b"coarse_labels"] = [int(v) // 5 for v in labels]  # 20 superclasses of 5 classes each
    return out


def write_cifar10(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    per_batch = max(1, num // 5)
    written = []
    for b in range(1, 6):
        batch = _cifar_batch(rng, per_batch, "labels", 10, f"training batch {b} of 5")
        py2_pickle(batch, folder / f"data_batch_{b}")
        written.append(folder / f"data_batch_{b}")
    py2_pickle(_cifar_batch(rng, _other(num), "labels", 10, "testing batch 1 of 1"), folder / "test_batch")
    meta = {b"num_cases_per_batch": per_batch, b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}
    py2_pickle(meta, folder / "batches.meta")
    (folder / "readme.html").write_text("<html><body>ganlab stand-in of CIFAR-10</body></html>\n")
    return [*written, folder / "test_batch", folder / "batches.meta", folder / "readme.html"]


def write_cifar100(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    py2_pickle(_cifar_batch(rng, num, "fine_labels", 100, "training batch 1 of 1", coarse=True), folder / "train")
    py2_pickle(_cifar_batch(rng, _other(num), "fine_labels", 100, "testing batch 1 of 1", coarse=True), folder / "test")
    # stand-in class names: the layout is the real one, the 100 names are placeholders
    meta = {
        b"fine_label_names": [f"fine_{i:02d}".encode() for i in range(100)],
        b"coarse_label_names": [f"coarse_{i:02d}".encode() for i in range(20)],
    }
    py2_pickle(meta, folder / "meta")
    return [folder / "train", folder / "test", folder / "meta"]


# ---- SVHN: MATLAB files -----------------------------------------------------------------------------------------


def write_svhn(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    from scipy.io import savemat

    root.mkdir(parents=True, exist_ok=True)
    written = []
    for split, n in (("train", num), ("test", _other(num)), ("extra", _other(num))):
        x = noise_images(rng, (32, 32, 3, n))  # height, width, channel, image
        y = rng.integers(1, 11, (n, 1)).astype(np.uint8)  # 1..10, where 10 is the digit 0
        savemat(root / f"{split}_32x32.mat", {"X": x, "y": y}, format="5")
        written.append(root / f"{split}_32x32.mat")
    return written


# ---- STL-10: raw binaries ---------------------------------------------------------------------------------------


def write_stl10(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    folder = root / "stl10_binary"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for split, n, labelled in (("train", num, True), ("test", _other(num), True), ("unlabeled", num, False)):
        x = noise_images(rng, (n, 3, 96, 96))  # (N, C, H, W) in memory
        # on disk each channel is column-major: the bytes of x.transpose(0, 1, 3, 2) in C order
        (folder / f"{split}_X.bin").write_bytes(np.ascontiguousarray(x.transpose(0, 1, 3, 2)).tobytes())
        written.append(folder / f"{split}_X.bin")
        if labelled:
            (folder / f"{split}_y.bin").write_bytes(rng.integers(1, 11, n).astype(np.uint8).tobytes())  # 1..10
            written.append(folder / f"{split}_y.bin")
    (folder / "class_names.txt").write_text("\n".join(STL10_CLASSES) + "\n")
    folds = [rng.permutation(num)[: max(1, num // 5)] for _ in range(10)]  # 10 folds of 0-based train indices
    (folder / "fold_indices.txt").write_text("\n".join(" ".join(map(str, f)) + " " for f in folds) + "\n")
    return [*written, folder / "class_names.txt", folder / "fold_indices.txt"]


# ---- ganlab's HDF5 ----------------------------------------------------------------------------------------------


def write_hdf5(root: Path, num: int, rng: np.random.Generator, resolution: int = 64, num_classes: int = 10):
    """The file ``ganlab data prepare`` writes (see :mod:`ganlab.core.data.hdf5`): ``root/prepared_<R>.hdf5``."""
    import h5py

    from ..hdf5 import FORMAT

    root.mkdir(parents=True, exist_ok=True)
    path = root / f"prepared_{int(resolution)}.hdf5"
    r = int(resolution)
    with h5py.File(path, "w") as f:
        f.create_dataset("imgs", data=noise_images(rng, (num, 3, r, r)), chunks=(min(500, num), 3, r, r))
        f.create_dataset("labels", data=rng.integers(0, num_classes, num).astype(np.int64))
        f.attrs["resolution"] = r
        f.attrs["num_classes"] = int(num_classes)
        f.attrs["class_names"] = json.dumps([f"class_{i}" for i in range(num_classes)])
        f.attrs["format"] = FORMAT
        f.attrs["source"] = "ganlab stand-in"
    return [path]
