"""Every on-disk dataset a config of the project names has a stand-in, and its reader builds the dataset from that
stand-in with the config's own split, resolution and options (what a paper-scale dress rehearsal does)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ganlab.core.data import get_dataset
from ganlab.core.data.checksums import skip_checksums
from ganlab.core.data.presence import dataset_present
from ganlab.core.data.standin import STANDINS, write_standin
from ganlab.core.errors import DatasetError

REPO = Path(__file__).resolve().parents[3]
CONFIGS = sorted(REPO.glob("*/src/ganlab/*/configs/*.yaml")) + sorted(
    REPO.glob("benchmarks/src/ganlab/*/suites/*.yaml")
)


def _walk(node, named, nameless, splits):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("data", "transfer") and isinstance(value, dict):
                (named if "name" in value else nameless).append(value)
            elif key == "extra_references" and isinstance(value, list):
                nameless += [v for v in value if isinstance(v, dict)]
            elif key.endswith("split") and isinstance(value, str):
                splits.add(value)
            _walk(value, named, nameless, splits)
    elif isinstance(node, list):
        for value in node:
            _walk(value, named, nameless, splits)


def config_reads() -> list[tuple[str, str, int | None, tuple]]:
    """(dataset, split, resolution, options) of every on-disk dataset read the configs describe."""
    reads = set()
    for path in CONFIGS:
        named, nameless, splits = [], [], set()
        raw = yaml.safe_load(path.read_text())
        _walk(raw, named, nameless, splits)
        top = ((raw.get("run") or {}).get("data") or {}).get("name") if isinstance(raw, dict) else None
        for d in named:
            if dataset_present(d["name"], root="/nonexistent") is not False:
                continue  # embedded, or a dataset another package registers
            own = d.get("split") or "train"
            # a scale's data options override the experiment's own dataset (not an arm's other dataset)
            scaled = [n.get("options") or {} for n in nameless if "split" not in n and n.get("options")]
            if top not in (None, d["name"]):  # an arm's other dataset (IC-GAN's transfer arm): its own read only
                reads.add((d["name"], own, d.get("resolution"), tuple(sorted((d.get("options") or {}).items()))))
                continue
            refs = [n for n in nameless if "split" in n]
            options = d.get("options") or {}
            cases = [(split, options) for split in {own, *splits}]  # the run's split and its reference splits
            cases += [(own, {**options, **o}) for o in scaled]  # a scale's extra data options (the paper's)
            for o in [{}, *scaled]:  # extra references: their split, their options over the run's
                cases += [(r["split"], {**options, **o, **(r.get("options") or {})}) for r in refs]
            for split, opts in cases:
                reads.add((d["name"], split, d.get("resolution"), tuple(sorted(opts.items()))))
    return sorted(reads, key=str)


READS = config_reads()


def test_configs_were_found():
    names = {r[0] for r in READS}
    if not CONFIGS:
        pytest.skip("the method packages' configs are not beside this checkout")
    assert {"cifar10", "celeba", "imagenet", "coco_stuff", "lsun", "stl10", "svhn", "mnist_fmnist"} <= names
    assert names <= set(STANDINS), f"no stand-in for {sorted(names - set(STANDINS))}"


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = tmp_path_factory.mktemp(name)
            options = {"classes": 2} if name in ("imagenet", "imagenet_lt", "image_folder") else {}
            write_standin(name, cache[name], num={"ffhq": 2}.get(name, 8), **options)
        return cache[name]

    return get


@pytest.mark.parametrize(("name", "split", "resolution", "options"), READS, ids=str)
def test_config_read_works_on_the_standin(roots, name, split, resolution, options):
    try:
        with skip_checksums():
            ds = get_dataset(name, root=str(roots(name)), split=split, resolution=resolution, **dict(options))
    except DatasetError as exc:
        if "has no split" in str(exc):
            pytest.skip(f"{name} has no split {split!r} (the split belongs to another dataset of the config)")
        raise
    assert len(ds) > 0
    if resolution is not None:
        assert ds.shape[-2:] == (resolution, resolution)
    batch = ds.get_batch([0, len(ds) - 1])
    assert batch["image"].shape == (2, *ds.shape)
