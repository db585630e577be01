"""What each on-disk dataset looks like where ganlab reads it, where the real files come from, and the one message
a reader raises when a folder does not hold that layout (it also names the ``ganlab data stand-in`` command that
writes a small dataset of the same layout, for dress rehearsals without the real data)."""

from __future__ import annotations

from pathlib import Path

from .checksums import CHECKSUMMED, ENV_VAR

__all__ = ["LAYOUTS", "layout_error", "standin_command"]

# name -> (the layout under --root, where the real data comes from)
LAYOUTS: dict[str, tuple[str, str]] = {
    "mnist": (
        "ROOT/MNIST/raw/{train,t10k}-images-idx3-ubyte and {train,t10k}-labels-idx1-ubyte (IDX files, as "
        "torchvision extracts them)",
        "`ganlab data show mnist --root ROOT --download`",
    ),
    "fashion_mnist": (
        "ROOT/FashionMNIST/raw/{train,t10k}-images-idx3-ubyte and {train,t10k}-labels-idx1-ubyte",
        "`ganlab data show fashion_mnist --root ROOT --download`",
    ),
    "cifar10": (
        "ROOT/cifar-10-batches-py/{data_batch_1..data_batch_5,test_batch,batches.meta} (the Python pickles of "
        "'CIFAR-10 python version', not PNG files)",
        "https://www.cs.toronto.edu/~kriz/cifar.html (cifar-10-python.tar.gz) or `--download`",
    ),
    "cifar100": (
        "ROOT/cifar-100-python/{train,test,meta} (the Python pickles of 'CIFAR-100 python version', not PNG files)",
        "https://www.cs.toronto.edu/~kriz/cifar.html (cifar-100-python.tar.gz) or `--download`",
    ),
    "svhn": (
        "ROOT/{train,test,extra}_32x32.mat (MATLAB files: X 32x32x3xN uint8, y Nx1 with 10 for the digit 0)",
        "http://ufldl.stanford.edu/housenumbers/ (Format 2: cropped digits) or `--download`",
    ),
    "stl10": (
        "ROOT/stl10_binary/{train,test,unlabeled}_X.bin, {train,test}_y.bin, class_names.txt, fold_indices.txt",
        "https://cs.stanford.edu/~acoates/stl10/ (stl10_binary.tar.gz) or `--download`",
    ),
    "celeba": (
        "ROOT/celeba/img_align_celeba/000001.jpg..., list_attr_celeba.txt, list_eval_partition.txt, "
        "identity_CelebA.txt, list_bbox_celeba.txt, list_landmarks_align_celeba.txt",
        "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Align&Cropped images and the Anno/ and Eval/ files)",
    ),
    "imagenet": (
        "ROOT/train/<wnid>/*.JPEG (one folder per class) and ROOT/val/ either in class folders or flat "
        "(ILSVRC2012_val_00000001.JPEG...) with LOC_val_solution.csv (Kaggle) or ILSVRC2012_devkit_t12/ beside it",
        "https://image-net.org (ILSVRC-2012, registration needed) or the Kaggle 'ImageNet Object Localization' copy",
    ),
    "imagenet_lt": (
        "ROOT/ImageNet_LT_{train,val,test}.txt ('train/<wnid>/<file>.JPEG label' lines) beside the ImageNet "
        "train/ and val/<wnid>/ folders they list",
        "the OLTR release (github.com/zhmiao/OpenLongTailRecognition-OLTR) plus ImageNet",
    ),
    "coco_stuff": (
        "ROOT/train2017/*.jpg and ROOT/val2017/*.jpg (COCO 2017 images), split files (one image name per line) in ROOT",
        "https://cocodataset.org (2017 train/val images); the LostGAN / OC-GAN split lists",
    ),
    "lsun": (
        "ROOT/<category>_<split>_lmdb/{data.mdb,lock.mdb} (one LMDB per category and split, keys image ids, values "
        "WebP or JPEG images)",
        "github.com/fyu/lsun (`python download.py -c CATEGORY`, then unzip)",
    ),
    "ffhq": (
        "ROOT/images1024x1024/00000/00000.png ... (1024x1024 PNGs, 1,000 per sub-folder)",
        "github.com/NVlabs/ffhq-dataset (`python download_ffhq.py --images`)",
    ),
    "image_folder": ("ROOT/<split>/<class>/*.jpg or ROOT/<class>/*.jpg", "any image collection"),
    "hdf5": (
        "an HDF5 file with 'imgs' uint8 (N, 3, R, R) and 'labels'",
        "`ganlab data prepare FOLDER FILE --resolution R`",
    ),
}
LAYOUTS["mnist_fmnist"] = (f"{LAYOUTS['mnist'][0]} and {LAYOUTS['fashion_mnist'][0]}", LAYOUTS["mnist"][1])


def standin_command(name: str, root: str | Path) -> str:
    return f"`ganlab data stand-in {name} --root {root}`"


def layout_error(name: str, problem: str, root: str | Path) -> str:
    """One message: what is wrong, the layout expected, where the real data is, and the stand-in command."""
    layout, source = LAYOUTS.get(name, ("", ""))
    parts = [f"dataset {name!r}: {problem}."]
    if layout:
        parts.append(f"Expected layout: {layout.replace('ROOT', str(root))}.")
    if source:
        parts.append(f"Real data: {source.replace('ROOT', str(root))}.")
    parts.append(f"For a dress rehearsal without it, write a small stand-in: {standin_command(name, root)}")
    if name in CHECKSUMMED:
        parts[-1] += f" and read it with {ENV_VAR}=1 (its bytes are not the published ones)"
    parts[-1] += "."
    return " ".join(parts)
