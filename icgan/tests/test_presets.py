"""Parameter counts of every official config: ours equal the official code's (counted in closed form from its
layer definitions) exactly, the official unlabelled G's unused class embedding included."""

from __future__ import annotations

import pytest

from ganlab.core.nn import param_counts
from ganlab.icgan.presets import (
    OFFICIAL_RUNS,
    UNUSED_EMBEDDING,
    expected_difference,
    official_counts,
    official_param_count,
)


@pytest.mark.parametrize("run", OFFICIAL_RUNS, ids=lambda r: r.name)
def test_official_config_counts_equal_ours(run):
    ours, off, diff = param_counts(run.preset, **run.options), official_counts(run), expected_difference(run)
    assert diff == {"G": 0, "D": 0}, run.name  # the official presets build the unused embedding too
    assert ours["G"] == off["G"], (run.name, ours, off)
    assert ours["D"] == off["D"], (run.name, ours, off)


def test_the_closed_form_reproduces_published_biggan_counts():
    # BigGAN 128 at ch 96 (BigGAN-PyTorch's published counts): G 70,433,988 and D 87,982,370
    c = official_param_count(128, 96, class_cond=True, instance_cond=False, attn=64)
    assert (c["G"], c["D"]) == (70433988, 87982370)


def test_paper_table2_counts_within_the_printed_precision():
    # IC-GAN Table 2 prints G only, in whole millions
    for preset, opts, paper in (
        ("icgan128_coco", {}, 22),
        ("icgan256_coco", {}, 26),
        ("icgan128_ch96", {}, 77),
        ("icgan256_ch96", {}, 90),
        ("biggan128_coco_uncond", {"num_classes": 1000}, 18),
        ("biggan256_coco_uncond", {"num_classes": 1000}, 21),
    ):
        g = param_counts(preset, **opts)["G"]
        assert abs(g / 1e6 - paper) < 0.5 + 0.011 * paper, (preset, g)
    assert UNUSED_EMBEDDING == 128000
