"""Stand-ins of the per-file formats: CelebA, ImageNet (and ImageNet-LT, Imagenette-style folders), COCO-Stuff,
LSUN's LMDB databases and FFHQ. Each writer takes ``(root, num, rng, **options)`` and returns the paths it wrote;
images are smooth random colour fields of the real dataset's native sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .content import encode_image, sizes, smooth_images, write_images

CELEBA_ATTRS = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair Blond_Hair "
    "Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones "
    "Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline "
    "Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick "
    "Wearing_Necklace Wearing_Necktie Young"
).split()
LANDMARKS = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
# ILSVRC photos: mostly 500 px on the long side, landscape or portrait
IMAGENET_SIZES = [(500, 375), (375, 500), (500, 333), (500, 500), (333, 500)]
COCO_SIZES = [(640, 480), (480, 640), (640, 427), (427, 640), (640, 360)]
LSUN_SIZES = [(256, 256), (341, 256), (256, 341), (384, 256), (256, 384)]  # the short side is 256


def _text(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


# ---- CelebA -----------------------------------------------------------------------------------------------------


def write_celeba(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    """``root/celeba``: aligned 178x218 JPEGs and the five annotation files torchvision's reader opens."""
    base = root / "celeba"
    names = [f"{i:06d}.jpg" for i in range(1, num + 1)]
    paths = [base / "img_align_celeba" / n for n in names]
    write_images(rng, paths, [(178, 218)] * num, "JPEG", quality=95)
    attrs = rng.choice(np.array([-1, 1]), size=(num, len(CELEBA_ATTRS)))
    n_train, n_valid = int(num * 0.8), int(num * 0.1)
    partition = np.repeat([0, 1, 2], [n_train, n_valid, num - n_train - n_valid])  # train, valid, test in order
    # list_attr_celeba.txt: the image count, the 40 names (with a trailing space), then '-1' / ' 1' per attribute
    attr_rows = [n + "".join(f" {v:2d}" for v in row) for n, row in zip(names, attrs)]
    boxes = rng.integers(1, 400, (num, 4))
    marks = rng.integers(60, 160, (num, 10))
    return [
        *paths,
        _text(base / "list_attr_celeba.txt", [str(num), " ".join(CELEBA_ATTRS) + " ", *attr_rows]),
        _text(base / "list_eval_partition.txt", [f"{n} {p}" for n, p in zip(names, partition)]),
        _text(base / "identity_CelebA.txt", [f"{n} {k}" for n, k in zip(names, rng.integers(1, 10178, num))]),
        _text(
            base / "list_bbox_celeba.txt",
            [
                str(num),
                "image_id x_1 y_1 width height",
                *(f"{n} {b[0]:5d} {b[1]:3d} {b[2]:3d} {b[3]:3d}" for n, b in zip(names, boxes)),
            ],
        ),
        _text(
            base / "list_landmarks_align_celeba.txt",
            [str(num), LANDMARKS, *(n + "".join(f" {v:4d}" for v in m) for n, m in zip(names, marks))],
        ),
    ]


# ---- ImageNet and friends ---------------------------------------------------------------------------------------


def fake_wnids(rng: np.random.Generator, k: int) -> list[str]:
    """``k`` distinct WordNet-style ids ('n' and 8 digits), sorted."""
    return [f"n{v:08d}" for v in np.sort(rng.choice(np.arange(1_000_000, 15_000_000), size=k, replace=False))]


def _class_tree(root: Path, split: str, wnids: list[str], counts: list[int], rng, name) -> list[Path]:
    paths = [root / split / w / name(w, j) for w, c in zip(wnids, counts) for j in range(c)]
    write_images(rng, paths, sizes(rng, len(paths), IMAGENET_SIZES), "JPEG", quality=90)
    return paths


def _train_name(w: str, j: int) -> str:
    return f"{w}_{1000 + j}.JPEG"


def write_imagenet(
    root: Path, num: int, rng: np.random.Generator, classes: int = 8, val_labels: str = "loc"
) -> list[Path]:
    """``root/train/<wnid>/<wnid>_<n>.JPEG`` and ``root/val`` as distributed: flat ``ILSVRC2012_val_%08d.JPEG``
    labelled by Kaggle's ``LOC_val_solution.csv`` (``val_labels="loc"``) or the devkit (``"devkit"``), or in class
    folders (``"folders"``)."""
    k = max(1, min(int(classes), num))
    wnids = fake_wnids(rng, k)
    counts = [num // k + (i < num % k) for i in range(k)]
    written = _class_tree(root, "train", wnids, counts, rng, _train_name)
    n_val = max(k, num // 4)
    val_wnids = [wnids[i] for i in rng.integers(0, k, n_val)]
    if val_labels == "folders":
        paths = [root / "val" / w / f"ILSVRC2012_val_{i:08d}.JPEG" for i, w in enumerate(val_wnids, 1)]
        write_images(rng, paths, sizes(rng, n_val, IMAGENET_SIZES), "JPEG", quality=90)
        return written + paths
    stems = [f"ILSVRC2012_val_{i:08d}" for i in range(1, n_val + 1)]
    paths = [root / "val" / f"{s}.JPEG" for s in stems]
    wh = sizes(rng, n_val, IMAGENET_SIZES)
    write_images(rng, paths, wh, "JPEG", quality=90)
    written += paths
    if val_labels == "loc":
        rows = ["ImageId,PredictionString"]
        for s, w, (width, height) in zip(stems, val_wnids, wh):
            rows.append(f"{s},{w} {width // 8} {height // 8} {width - width // 8} {height - height // 8} ")
        written.append(_text(root / "LOC_val_solution.csv", rows))
        written.append(_text(root / "LOC_synset_mapping.txt", [f"{w} stand-in class {i}" for i, w in enumerate(wnids)]))
    elif val_labels == "devkit":
        written += _write_devkit(root, wnids, val_wnids, rng)
    else:
        raise ValueError(f"val_labels must be 'loc', 'devkit' or 'folders', got {val_labels!r}")
    return written


def _write_devkit(root: Path, wnids: list[str], val_wnids: list[str], rng) -> list[Path]:
    """ILSVRC2012_devkit_t12/data: meta.mat (struct array 'synsets', leaves first with ILSVRC2012_ID 1..1000 in the
    devkit's own order, not sorted by wnid, then inner nodes) and the ground truth, one ID per validation image."""
    from scipy.io import savemat

    data = root / "ILSVRC2012_devkit_t12" / "data"
    data.mkdir(parents=True, exist_ok=True)
    order = [wnids[i] for i in rng.permutation(len(wnids))]
    ids = {w: i + 1 for i, w in enumerate(order)}
    fields = [
        "ILSVRC2012_ID",
        "WNID",
        "words",
        "gloss",
        "num_children",
        "children",
        "wordnet_height",
        "num_train_images",
    ]
    rows = [(ids[w], w, f"stand-in {w}", "a stand-in class", 0, np.zeros((1, 0)), 0, 1300) for w in order]
    rows.append((len(order) + 1, "n00001740", "entity", "the root", len(order), np.arange(1, len(order) + 1), 1, 0))
    synsets = np.empty((len(rows), 1), dtype=[(f, object) for f in fields])
    for i, row in enumerate(rows):
        synsets[i, 0] = row
    savemat(data / "meta.mat", {"synsets": synsets}, format="5")
    truth = _text(data / "ILSVRC2012_validation_ground_truth.txt", [str(ids[w]) for w in val_wnids])
    return [data / "meta.mat", truth]


def write_image_folder(root: Path, num: int, rng: np.random.Generator, classes: int = 10) -> list[Path]:
    """Imagenette-style ``root/{train,val}/<wnid>/*.JPEG`` (what the image_folder configs point at)."""
    k = max(1, min(int(classes), num))
    wnids = fake_wnids(rng, k)
    train = _class_tree(root, "train", wnids, [num // k + (i < num % k) for i in range(k)], rng, _train_name)
    n_val = max(k, num // 4)
    val = _class_tree(root, "val", wnids, [n_val // k + (i < n_val % k) for i in range(k)], rng, _train_name)
    return train + val


def write_imagenet_lt(root: Path, num: int, rng: np.random.Generator, classes: int = 8) -> list[Path]:
    """An ImageNet tree plus ``ImageNet_LT_{train,val,test}.txt`` ('relative/path label' lines, labels = sorted
    wnid index): train long-tailed (class i holds about 1/(i+1) of the head), val drawn from ImageNet's train
    images, test from ImageNet's val images in class folders."""
    k = max(1, min(int(classes), num))
    wnids = fake_wnids(rng, k)
    weights = 1.0 / np.arange(1, k + 1)
    lt_counts = np.maximum(1, np.floor(num * weights / weights.sum())).astype(int)
    n_val, n_test = 1, 2  # per class (the real files: 20 and 50)
    train = _class_tree(root, "train", wnids, [int(c) + n_val for c in lt_counts], rng, _train_name)
    test_paths = [
        root / "val" / w / f"ILSVRC2012_val_{1 + c * n_test + j:08d}.JPEG"
        for c, w in enumerate(wnids)
        for j in range(n_test)
    ]
    write_images(rng, test_paths, sizes(rng, len(test_paths), IMAGENET_SIZES), "JPEG", quality=90)
    lines: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for c, w in enumerate(wnids):
        files = [_train_name(w, j) for j in range(int(lt_counts[c]) + n_val)]
        lines["train"] += [f"train/{w}/{f} {c}" for f in files[: int(lt_counts[c])]]
        lines["val"] += [f"train/{w}/{f} {c}" for f in files[int(lt_counts[c]) :]]
    lines["test"] = [f"{p.relative_to(root).as_posix()} {wnids.index(p.parent.name)}" for p in test_paths]
    texts = [_text(root / f"ImageNet_LT_{s}.txt", lines[s]) for s in ("train", "val", "test")]
    return train + test_paths + texts


# ---- COCO-Stuff -------------------------------------------------------------------------------------------------


COCO_SPLIT_FILES = (
    "coco_stuff_train.txt",
    "coco_stuff_val_eval.txt",
    "coco_stuff_val_seen.txt",
    "coco_stuff_val_unseen.txt",
)


def write_coco_stuff(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    """``root/{train,val}2017/<12-digit id>.jpg`` (COCO 2017 images) and the split lists the IC-GAN configs name,
    one image file name per line: the LostGAN / OC-GAN training subset and the evaluation split with its seen and
    unseen halves."""
    n_val = max(2, num // 4)
    ids = rng.choice(np.arange(1, 600_000), size=num + n_val, replace=False)
    train = [root / "train2017" / f"{i:012d}.jpg" for i in ids[:num]]
    val = [root / "val2017" / f"{i:012d}.jpg" for i in ids[num:]]
    write_images(rng, train + val, sizes(rng, num + n_val, COCO_SIZES), "JPEG", quality=90)
    half = n_val // 2
    lists = [[p.name for p in train], [p.name for p in val], [p.name for p in val[:half]], [p.name for p in val[half:]]]
    return train + val + [_text(root / name, lines) for name, lines in zip(COCO_SPLIT_FILES, lists)]


# ---- LSUN -------------------------------------------------------------------------------------------------------


def write_lsun(
    root: Path,
    num: int,
    rng: np.random.Generator,
    categories: str | list[str] = "all",
    category: str | None = None,
    image_format: str = "webp",
) -> list[Path]:
    """``root/<category>_{train,val}_lmdb`` per category (default: the ten scene categories; ``category`` alone: one):
    LMDB databases of ``num`` train and ``max(2, num // 4)`` val images each, keys 40-hex-digit image ids, values
    WebP (the release's files) or JPEG (``image_format=jpeg``, the format its README names) whose short side is 256."""
    import lmdb

    from ..lsun import lsun_categories

    fmt = {"webp": ("WEBP", {"quality": 75, "method": 0}), "jpeg": ("JPEG", {"quality": 75})}.get(image_format.lower())
    if fmt is None:
        raise ValueError(f"lsun stand-in: image_format must be webp or jpeg, got {image_format!r}")
    written = []
    for cat in lsun_categories([category] if category else categories):
        for split, n in (("train", num), ("val", max(2, num // 4))):
            wh = sizes(rng, n, LSUN_SIZES)
            values = [encode_image(smooth_images(rng, 1, h, w)[0], fmt[0], **fmt[1]) for w, h in wh]
            keys = [rng.bytes(20).hex().encode() for _ in range(n)]
            folder = root / f"{cat}_{split}_lmdb"
            folder.mkdir(parents=True, exist_ok=True)
            env = lmdb.open(str(folder), map_size=max(1 << 20, 4 * sum(map(len, values))), subdir=True)
            with env.begin(write=True) as txn:
                for k, v in zip(keys, values):
                    txn.put(k, v)
            env.close()
            written += [folder / "data.mdb", folder / "lock.mdb"]
    return written


# ---- FFHQ -------------------------------------------------------------------------------------------------------


def write_ffhq(root: Path, num: int, rng: np.random.Generator) -> list[Path]:
    """``root/images1024x1024/<chunk>/<id>.png``: 1024x1024 PNGs, ids 00000.., 1,000 per chunk folder."""
    paths = [root / "images1024x1024" / f"{(i // 1000) * 1000:05d}" / f"{i:05d}.png" for i in range(num)]
    write_images(rng, paths, [(1024, 1024)] * num, "PNG", compress_level=1)
    return paths
