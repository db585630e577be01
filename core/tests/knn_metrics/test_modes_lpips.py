import sys

import numpy as np
import pytest
import torch

from ganlab.core.errors import MissingDependencyError, ShapeError, WeightsNotFoundError
from ganlab.core.metrics._checks import NonFiniteError
from ganlab.core.metrics.modes import mode_statistics


def test_mode_statistics_on_constructed_samples():
    centers = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    sigma = 0.01
    samples = np.array(
        [
            [0.0, 0.0], [0.03, 0.0], [0.0, 0.039],  # mode 0: three within 4 sigma (0.04)
            [0.0, 0.041],  # mode 0, just outside 4 sigma
            [1.0, 0.02],  # mode 1: one good sample
            [0.52, 0.52],  # nearest mode 3 but far from it
            [1.0, 1.0], [0.99, 1.0],  # mode 3: two good samples
        ]
    )  # fmt: skip
    out = mode_statistics(samples, centers, sigma)
    assert out["counts"] == [3, 1, 0, 2]
    assert out["assigned"] == [4, 1, 0, 3]
    assert out["modes_covered"] == 3 and out["n_modes"] == 4 and out["n_samples"] == 8
    assert out["high_quality_fraction"] == pytest.approx(6 / 8)
    assert out["high_quality_percent"] == pytest.approx(75.0)
    assert mode_statistics(samples, centers, sigma, min_count=2)["modes_covered"] == 2
    assert mode_statistics(samples, centers, sigma, threshold=5.0)["counts"] == [4, 1, 0, 2]


def test_mode_statistics_of_exact_mixture_samples():
    rng = np.random.default_rng(0)
    grid = np.stack(np.meshgrid(np.arange(-2, 3), np.arange(-2, 3)), -1).reshape(-1, 2) * 2 / 2.828
    labels = rng.integers(0, 25, 10_000)
    x = grid[labels] + 0.05 / 2.828 * rng.standard_normal((10_000, 2))
    out = mode_statistics(x, grid, 0.05 / 2.828)
    assert out["modes_covered"] == 25
    # |N(0, I_2)| <= 4 has probability 1 - exp(-8) for a 2-D Gaussian
    assert out["high_quality_fraction"] == pytest.approx(1 - np.exp(-8), abs=2e-3)
    np.testing.assert_array_equal(out["assigned"], np.bincount(labels, minlength=25))


def test_mode_statistics_bad_input():
    with pytest.raises(ShapeError, match="same feature extractor|dimensions"):
        mode_statistics(np.zeros((3, 2)), np.zeros((2, 3)), 0.1)
    with pytest.raises(NonFiniteError):
        mode_statistics(np.full((3, 2), np.nan), np.zeros((2, 2)), 0.1)
    with pytest.raises(ShapeError, match="positive"):
        mode_statistics(np.zeros((3, 2)), np.zeros((2, 2)), 0.0)


def test_lpips_missing_trunk_weights_offline(tmp_path, monkeypatch):
    pytest.importorskip("lpips")
    from ganlab.core.metrics.perceptual import LPIPS

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(WeightsNotFoundError, match="alexnet"):
        LPIPS("alex")
    with pytest.raises(ShapeError, match="unknown LPIPS trunk"):
        LPIPS("resnet")


def test_lpips_distance_with_random_trunk():
    pytest.importorskip("lpips")
    from ganlab.core.metrics.perceptual import LPIPS, lpips_distance

    torch.manual_seed(0)
    model = LPIPS("alex", pretrained_trunk=False)
    a = torch.rand(3, 3, 32, 32) * 2 - 1
    b = torch.rand(3, 3, 32, 32) * 2 - 1
    d = lpips_distance(a, b, model=model, batch_size=2)
    assert d.shape == (3,) and (d > 0).all()
    np.testing.assert_allclose(lpips_distance(a, a, model=model), 0.0, atol=1e-7)
    np.testing.assert_allclose(d, lpips_distance(b, a, model=model), rtol=1e-5)
    with pytest.raises(NonFiniteError):
        model(a, a * float("nan"))


def test_lpips_missing_package(monkeypatch):
    from ganlab.core.metrics.perceptual import LPIPS

    monkeypatch.setitem(sys.modules, "lpips", None)
    with pytest.raises(MissingDependencyError, match="pip install lpips"):
        LPIPS()
