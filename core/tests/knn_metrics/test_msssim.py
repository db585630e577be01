import numpy as np
import pytest
import torch
from scipy import ndimage, signal

from ganlab.core.errors import ShapeError
from ganlab.core.metrics._checks import NonFiniteError
from ganlab.core.metrics.msssim import MS_SSIM_WEIGHTS, intra_class_ms_ssim, ms_ssim


def _tf_style_msssim(a, b, max_val):
    """Independent numpy rendering of the TF compression algorithm for one grayscale pair (reference_notes §4.3)."""

    def gauss(size, sigma):
        offset, start, stop = 0.0, -(size // 2), size // 2 + 1
        if size % 2 == 0:
            offset, stop = 0.5, stop - 1
        x, y = np.mgrid[offset + start : stop, offset + start : stop]
        g = np.exp(-((x**2 + y**2) / (2.0 * sigma**2)))
        return g / g.sum()

    def ssim(x, y):
        size = min(11, *x.shape)
        w = gauss(size, size * 1.5 / 11)
        c1, c2 = (0.01 * max_val) ** 2, (0.03 * max_val) ** 2
        mu1, mu2 = signal.fftconvolve(x, w, mode="valid"), signal.fftconvolve(y, w, mode="valid")
        s11 = signal.fftconvolve(x * x, w, mode="valid") - mu1 * mu1
        s22 = signal.fftconvolve(y * y, w, mode="valid") - mu2 * mu2
        s12 = signal.fftconvolve(x * y, w, mode="valid") - mu1 * mu2
        v1, v2 = 2 * s12 + c2, s11 + s22 + c2
        return np.mean((2 * mu1 * mu2 + c1) * v1 / ((mu1 * mu1 + mu2 * mu2 + c1) * v2)), np.mean(v1 / v2)

    box = np.ones((2, 2)) / 4.0
    mcs, mssim = [], []
    for _ in range(5):
        s, c = ssim(a, b)
        mssim.append(s)
        mcs.append(c)
        a = ndimage.convolve(a, box, mode="reflect")[::2, ::2]
        b = ndimage.convolve(b, box, mode="reflect")[::2, ::2]
    w = np.array(MS_SSIM_WEIGHTS)
    return np.prod(np.array(mcs[:4]) ** w[:4]) * mssim[4] ** w[4]


def _correlated_pair(seed, size, channels=1, noise=0.15):
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, channels, size // 4, size // 4, generator=g, dtype=torch.float64)
    a = torch.nn.functional.interpolate(base, size=(size, size), mode="bilinear", align_corners=False)
    b = (a + noise * torch.randn(a.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    return a, b


def test_equals_pytorch_msssim_on_large_images():
    import pytorch_msssim

    g = torch.Generator().manual_seed(0)
    # Sides that halve evenly 4 times; for odd intermediate sizes the package zero-pads, TF reflects.
    a = torch.rand(2, 3, 192, 256, generator=g, dtype=torch.float64)
    b = (a + 0.2 * torch.randn(a.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    ours = ms_ssim(a, b, data_range=1.0)
    ref = pytorch_msssim.ms_ssim(a, b, data_range=1.0, size_average=False)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)  # the package builds its window in float32
    a2, b2 = a * 2 - 1, b * 2 - 1
    ref2 = pytorch_msssim.ms_ssim(a2, b2, data_range=2.0, size_average=False)
    torch.testing.assert_close(ms_ssim(a2, b2), ref2, rtol=1e-5, atol=1e-5)  # default data_range 2 for [-1, 1]


@pytest.mark.parametrize("size", [32, 37, 64])
def test_defined_on_small_images_as_the_tf_algorithm(size):
    a, b = _correlated_pair(size, size)
    ref = _tf_style_msssim(a[0, 0].numpy(), b[0, 0].numpy(), 1.0)
    assert float(ms_ssim(a, b, data_range=1.0)) == pytest.approx(ref, rel=1e-9)


def test_properties_on_32px():
    a, b = _correlated_pair(1, 32, channels=3)
    assert torch.allclose(ms_ssim(a, a, data_range=1.0), torch.ones(1, dtype=torch.float64))
    v = ms_ssim(a, b, data_range=1.0)
    assert 0 < float(v) < 1
    torch.testing.assert_close(v, ms_ssim(b, a, data_range=1.0))
    assert ms_ssim(torch.cat([a, b]), torch.cat([b, a]), data_range=1.0, reduction="mean").shape == ()


def test_intra_class_protocol():
    a, b = _correlated_pair(2, 32, noise=0.3)
    # class 0: four identical images (score 100); class 1: two different images (their MS-SSIM x 100)
    images = torch.cat([a, a, a, a, a, b])
    labels = np.array([0, 0, 0, 0, 1, 1])
    out = intra_class_ms_ssim(images * 2 - 1, labels, n_pairs=200)
    expected_1 = 100 * float(ms_ssim(a * 2 - 1, b * 2 - 1))
    assert out["per_class"][0] == pytest.approx(100.0)
    assert out["per_class"][1] == pytest.approx(expected_1, rel=1e-9)  # distinct images in every pair
    assert out["mean"] == pytest.approx((100 + expected_1) / 2)
    assert out["std"] == pytest.approx(abs(100 - expected_1) / 2)
    # class 1's pairs are always (a, b) or (b, a), so the seed does not matter here; with more images it does
    assert intra_class_ms_ssim(images * 2 - 1, labels, seed=3)["mean"] == pytest.approx(out["mean"], rel=1e-12)


def test_bad_input():
    a = torch.zeros(2, 1, 32, 32)
    with pytest.raises(ShapeError, match="same shape"):
        ms_ssim(a, torch.zeros(2, 1, 32, 31))
    with pytest.raises(ShapeError, match="16"):
        ms_ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    with pytest.raises(NonFiniteError):
        ms_ssim(a, a * float("nan"))
    with pytest.raises(ShapeError, match="at least 2"):
        intra_class_ms_ssim(torch.zeros(3, 1, 32, 32), [0, 0, 1])
