import pytest
import torch

from ganlab.core.errors import ShapeError
from ganlab.core.nn.classifiers import CAE32, CLASSIFIERS, LeNet32, build_classifier, resnet20, resnet20_w64


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_lenet32_shapes_and_parameter_count():
    m = LeNet32(num_classes=10, in_channels=1)
    x = torch.randn(4, 1, 32, 32)
    assert m(x).shape == (4, 10)
    assert m.features(x).shape == (4, 84)
    # conv 1->6 (5x5) + conv 6->16 (5x5) + FC 400-120-84-10, by hand
    expected = (1 * 6 * 25 + 6) + (6 * 16 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    assert n_params(m) == expected == 61706


def test_lenet_pads_28px_digits_with_the_background_and_rejects_other_sizes():
    m = LeNet32().eval()
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    padded = torch.full((2, 1, 32, 32), -1.0)
    padded[:, :, 2:30, 2:30] = x
    assert torch.equal(m(x), m(padded))
    with pytest.raises(ShapeError, match="resolution=32"):
        m(torch.randn(2, 1, 24, 24))


def test_resnet20_parameter_counts_match_the_published_ones():
    # akamaster README: 0.27M (269,722) at width 16; multigan notes: 4,286,026 at width 64
    assert n_params(resnet20(10, 3)) == 269_722
    assert n_params(resnet20_w64(10, 3)) == 4_286_026
    m = resnet20(10, 3)
    x = torch.randn(2, 3, 32, 32)
    assert m(x).shape == (2, 10) and m.features(x).shape == (2, 64)
    assert resnet20_w64(10, 3).features(x).shape == (2, 256)


def test_option_a_shortcut_is_subsample_and_zero_pad():
    from ganlab.core.nn.classifiers import _BasicBlock

    block = _BasicBlock(16, 32, stride=2).eval()
    for p in block.parameters():  # zero the residual branch: out = relu(shortcut(x))
        torch.nn.init.zeros_(p)
    block.bn2.running_mean.zero_()
    x = torch.rand(1, 16, 8, 8)
    out = block(x)
    assert out.shape == (1, 32, 4, 4)
    assert torch.equal(out[:, 8:24], x[:, :, ::2, ::2])
    assert torch.count_nonzero(out[:, :8]) == 0 and torch.count_nonzero(out[:, 24:]) == 0


def test_cae32_roundtrip_shapes():
    cae = CAE32(in_channels=3)
    assert cae.encoder_fc.in_features == 4096  # the reference's FC 4096 -> 256 at nf = 64
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = cae(x)
    assert y.shape == x.shape and y.abs().max() <= 1


def test_registry_lists_the_classifiers():
    assert {"lenet", "resnet20", "resnet20_w64"} <= set(CLASSIFIERS.names())
    m = build_classifier("resnet20", num_classes=5, in_channels=1, width=8)
    assert m(torch.randn(2, 1, 32, 32)).shape == (2, 5)
