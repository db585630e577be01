"""Labels of ImageNet's validation images as they are distributed: one flat folder of ``ILSVRC2012_val_*.JPEG``.

Two label sources are read: Kaggle's ``LOC_val_solution.csv`` (``ImageId,PredictionString`` rows whose prediction
string starts with the wnid, then box corners) and the ILSVRC-2012 devkit
(``ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt``: one ILSVRC2012_ID per image in file-name
order, mapped to wnids by the ``synsets`` struct of ``meta.mat``). Either is looked up in the ImageNet folder and up
to three folders above it (Kaggle's ``ILSVRC/Data/CLS-LOC`` lies three below the csv).
"""

from __future__ import annotations

import csv
from pathlib import Path

from ganlab.core.errors import DatasetError

__all__ = ["LOC_CSV", "DEVKIT", "find_val_labels", "synset_mapping"]

LOC_CSV = "LOC_val_solution.csv"
LOC_SYNSETS = "LOC_synset_mapping.txt"
DEVKIT = "ILSVRC2012_devkit_t12"


def _candidates(base: Path) -> list[Path]:
    base = base.resolve()
    return [base, *list(base.parents)[:3]]


def _read_loc_csv(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(path, newline="") as f:
        rows = csv.reader(f)
        header = next(rows, None)
        if header is None or [h.strip() for h in header[:2]] != ["ImageId", "PredictionString"]:
            raise DatasetError(f"{path}: expected the header 'ImageId,PredictionString', got {header!r}")
        for lineno, row in enumerate(rows, 2):
            if not row:
                continue
            tokens = row[1].split() if len(row) > 1 else []
            if not tokens or not tokens[0].startswith("n"):
                raise DatasetError(f"{path}:{lineno}: expected 'ILSVRC2012_val_XXXXXXXX,<wnid> x y x y ...'")
            out[row[0].strip()] = tokens[0]
    return out


def _read_devkit(folder: Path, stems: list[str]) -> dict[str, str]:
    from scipy.io import loadmat

    data = folder / "data"
    truth = [int(x) for x in (data / "ILSVRC2012_validation_ground_truth.txt").read_text().split()]
    synsets = loadmat(data / "meta.mat", squeeze_me=True)["synsets"]
    wnid_of = {int(s["ILSVRC2012_ID"]): str(s["WNID"]) for s in synsets if int(s["num_children"]) == 0}
    # the ground truth lists one ID per image, in the order of the image numbers 1, 2, ...
    by_number = {i + 1: wnid_of.get(t) for i, t in enumerate(truth)}
    out = {}
    for stem in stems:
        number = int(stem.rsplit("_", 1)[-1]) if stem.rsplit("_", 1)[-1].isdigit() else -1
        if by_number.get(number):
            out[stem] = by_number[number]
    return out


def find_val_labels(base: Path, stems: list[str]) -> tuple[dict[str, str], Path] | None:
    """``{image stem: wnid}`` and the file it came from, or None when no label file is found."""
    for folder in _candidates(base):
        if (folder / LOC_CSV).is_file():
            return _read_loc_csv(folder / LOC_CSV), folder / LOC_CSV
        devkit = folder / DEVKIT
        if (devkit / "data" / "ILSVRC2012_validation_ground_truth.txt").is_file():
            return _read_devkit(devkit, stems), devkit
    return None


def synset_mapping(base: Path) -> list[str] | None:
    """The wnids of ``LOC_synset_mapping.txt`` ('n01440764 tench, Tinca tinca' lines), sorted; None if absent."""
    for folder in _candidates(base):
        if (folder / LOC_SYNSETS).is_file():
            lines = (folder / LOC_SYNSETS).read_text().splitlines()
            return sorted(line.split()[0] for line in lines if line.strip())
    return None
