"""Seed aggregation (core's harness aggregate, as the package's reproductions call it): the MS-SSIM spread across
classes and the spread across seeds get distinct keys."""

from __future__ import annotations

import math

import pytest

from ganlab.core.repro_harness import aggregate
from ganlab.multigan_boosting.gan_repro import msssim_fields


def test_msssim_class_spread_and_seed_spread_have_distinct_keys():
    per_seed = [(50.0, 8.0), (52.0, 10.0), (57.0, 9.0)]  # (mean over classes, std across classes) per seed
    records = [
        {"source": "G", "seed": s, **msssim_fields({"value": v, "std": sd, "protocol": "p"})}
        for s, (v, sd) in enumerate(per_seed)
    ]
    (agg,) = aggregate(records, ("source",), ["ms_ssim", "ms_ssim_class_std"], columns=["source"])
    # by hand: mean 53; deviations -3, -1, 4 -> std (ddof 1) = sqrt(26 / 2)
    assert agg["ms_ssim"] == pytest.approx(53.0)
    assert agg["ms_ssim_std"] == pytest.approx(math.sqrt(13.0))  # across seeds
    assert agg["ms_ssim_class_std"] == pytest.approx(9.0)  # across classes, mean over seeds
    assert agg["ms_ssim_class_std_std"] == pytest.approx(1.0)
    assert agg["seeds"] == 3


def test_aggregate_refuses_a_column_that_would_collide_with_its_seed_std():
    rows = [{"source": "G", "seed": s, "x": 1.0 + s, "x_std": 0.5} for s in range(2)]
    with pytest.raises(ValueError, match="x_std"):
        aggregate(rows, ("source",), ["x"])
