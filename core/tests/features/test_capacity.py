import numpy as np
import pytest
import torch

from ganlab.core.errors import ShapeError
from ganlab.core.features.classifier import (
    PROTOCOLS,
    augment_flip_crop,
    get_protocol,
    label_sampler,
    lr_factor,
    train_classifier,
)
from ganlab.core.metrics.capacity import conditional_sampler, fitting_capacity


@pytest.fixture(scope="module")
def mnist_split():
    from ganlab.core.data import get_dataset

    ds = get_dataset("mnist5k", resolution=32)
    b = ds.get_batch(np.arange(len(ds)))
    perm = np.random.default_rng(0).permutation(len(ds))
    tr, te = perm[:4000], perm[4000:]
    return b["image"][tr], b["label"][tr], b["image"][te], b["label"][te]


def test_gold_protocol_values():
    p = PROTOCOLS["gold"]
    assert (p.arch, p.epochs, p.samples_per_epoch, p.batch_size) == ("lenet", 40, 10_000, 128)
    assert (p.optimizer, p.lr, p.betas) == ("adam", 1e-3, (0.5, 0.999))
    # GOLD: lr * 0.1 ** (epoch // 20), epochs counted from 1
    assert [lr_factor(p, e) for e in (1, 19, 20, 39, 40)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
    m = PROTOCOLS["multigan"]
    assert (m.arch, m.epochs, m.samples_per_epoch, m.batch_size, m.lr, m.weight_decay) == (
        "resnet20_w64",
        180,
        50_000,
        125,
        0.1,
        1e-4,
    )
    # MultiStepLR([100, 150]): epochs 1..100 at 0.1, 101..150 at 0.01, then 0.001
    assert [lr_factor(m, e) for e in (1, 100, 101, 150, 151, 180)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])


def test_flip_crop_augmentation_matches_a_per_image_reference():
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6)
    g = torch.Generator().manual_seed(0)
    out = augment_flip_crop(x, g, padding=2)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    pflip = torch.nn.functional.pad(x.flip(-1), (2, 2, 2, 2))
    for i in range(2):  # each output is one of the 5x5 crops of the (possibly flipped) padded image
        crops = [p[i, :, a : a + 6, b : b + 6] for p in (padded, pflip) for a in range(5) for b in range(5)]
        assert any(torch.equal(out[i], c) for c in crops)


def test_crop_only_augmentation_never_mirrors():
    # an image whose mirror is not one of its own crops: every crop-only output is a crop of the unflipped image
    x = torch.arange(64 * 1 * 6 * 6, dtype=torch.float32).view(64, 1, 6, 6) % 36
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    pflip = torch.nn.functional.pad(x.flip(-1), (2, 2, 2, 2))
    out = augment_flip_crop(x, torch.Generator().manual_seed(0), padding=2, flip=False)
    mirrored = augment_flip_crop(x, torch.Generator().manual_seed(0), padding=2)
    crops = lambda p, i: [p[i, :, a : a + 6, b : b + 6] for a in range(5) for b in range(5)]
    assert all(any(torch.equal(out[i], c) for c in crops(padded, i)) for i in range(64))
    n_mirrored = sum(any(torch.equal(mirrored[i], c) for c in crops(pflip, i)) for i in range(64))
    assert 16 < n_mirrored < 48  # the default flips about half of them


def test_label_sampler_returns_images_of_the_requested_class(mnist_split):
    x, y, _, _ = mnist_split
    s = label_sampler(x, y.numpy(), seed=0)
    want = torch.tensor([3, 3, 7, 0, 9])
    got = s(want)
    for img, c in zip(got, want):
        assert any(torch.equal(img, x[j]) for j in torch.nonzero(y == c).flatten()[:2000])


def test_fitting_capacity_of_real_data_equals_real_accuracy_fast(mnist_split):
    """Fast CI variant: 3 epochs x 2,000 samples; "generated" = real training images drawn by label."""
    x, y, xt, yt = mnist_split
    short = dict(epochs=3, samples_per_epoch=1500, eval_every=1)
    _, real = train_classifier((x, y), num_classes=10, in_channels=1, test=(xt, yt), **short)
    fc = fitting_capacity(label_sampler(x, y.numpy(), seed=1), xt, yt, num_classes=10, **short)
    assert real["accuracy"] > 0.75 and fc["fitting_capacity"] > 0.75
    assert abs(fc["fitting_capacity"] - real["accuracy"]) < 0.06

    # a "generator" of noise carries no class information: near chance
    def noise_gen(lab):
        return torch.rand(len(lab), 1, 32, 32) * 2 - 1

    noise = fitting_capacity(noise_gen, xt, yt, num_classes=10, epochs=2, samples_per_epoch=1000)
    assert noise["fitting_capacity"] < 0.3


@pytest.mark.slow
def test_fitting_capacity_of_real_data_equals_real_accuracy_gold_protocol(mnist_split):
    """The full GOLD protocol (40 epochs x 10k fresh samples, several minutes on 2 CPU cores)."""
    x, y, xt, yt = mnist_split
    _, real = train_classifier((x, y), num_classes=10, in_channels=1, test=(xt, yt), protocol="gold")
    fc = fitting_capacity(label_sampler(x, y.numpy(), seed=1), xt, yt, num_classes=10)
    assert real["accuracy"] > 0.93
    assert abs(fc["fitting_capacity"] - real["accuracy"]) < 0.02
    assert [e for e, _ in fc["history"]] == [10, 20, 30, 40]


def test_fixed_generated_set_and_shape_errors(mnist_split):
    x, y, xt, yt = mnist_split
    res = fitting_capacity((x[:500], y[:500]), xt[:200], yt[:200], epochs=1, samples_per_epoch=None)
    assert 0 <= res["fitting_capacity"] <= 1 and res["protocol"]["samples_per_epoch"] is None
    with pytest.raises(ShapeError, match="resolution"):
        fitting_capacity(lambda lab: torch.zeros(len(lab), 1, 28, 28), xt, yt, epochs=1, samples_per_epoch=128)
    with pytest.raises(ShapeError, match=r"\[-1, 1\]"):
        fitting_capacity(lambda lab: torch.full((len(lab), 1, 32, 32), 5.0), xt, yt, epochs=1, samples_per_epoch=128)


def test_conditional_sampler_calls_g_with_labels_in_eval_mode():
    class G(torch.nn.Module):
        z_dim = 4
        num_classes = 10

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))
            self.seen = None

        def forward(self, z, y=None):
            self.seen = (z.shape, y.clone(), self.training)
            return torch.tanh(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 32, 32)

    g = G().train()
    fn = conditional_sampler(g, seed=0)
    out = fn(torch.tensor([1, 2, 3]))
    assert out.shape == (3, 1, 32, 32)
    assert g.seen[0] == (3, 4) and g.seen[1].tolist() == [1, 2, 3] and g.seen[2] is False


def test_protocol_overrides_are_checked():
    from ganlab.core.errors import ConfigError

    assert get_protocol("gold", epochs=2).epochs == 2
    with pytest.raises(ConfigError, match="unknown classifier protocol fields"):
        get_protocol("gold", epoch=2)
    with pytest.raises(ConfigError, match="unknown classifier protocol"):
        get_protocol("cas")
