"""The public pipeline's transform: black (-1) crop padding, and a fixed set transformed once, filtered, cached."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import ganlab.multigan_boosting.classifier as clf
from ganlab.multigan_boosting.classifier import ClassifierConfig, RealSource, train_classifier_on_generators
from ganlab.multigan_boosting.synthetic import SyntheticSource


class ConstantG(nn.Module):
    """Every image is the constant 0.5 (8 x 8): only a crop that shifts it shows padding."""

    z_dim, num_classes = 2, 2

    def __init__(self) -> None:
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, z, y):
        return torch.full((len(y), 1, 8, 8), 0.5) + 0 * self.dummy


class SpyFilter(nn.Module):
    """Says class 0 (sure) for an image that is not constant (a crop showed padding), class 1 otherwise; keeps
    every image it is shown."""

    num_classes = 2

    def __init__(self) -> None:
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        shifted = (x.flatten(1).amax(1) != x.flatten(1).amin(1)).float()
        return torch.stack([shifted, 1 - shifted], 1) * 40 - 20 + 0 * self.dummy


def _keys(x: torch.Tensor, y: torch.Tensor) -> list[tuple]:
    return sorted((int(b), tuple(a.flatten().tolist())) for a, b in zip(x, y))


def test_fixed_set_transformed_once_then_filtered_and_cached(monkeypatch):
    captured = {}

    def fake_train(batches, **kw):  # the classifier itself is not the point: keep the source it would train on
        captured["source"] = batches
        return nn.Linear(1, 1), {}

    monkeypatch.setattr(clf, "train_classifier", fake_train)
    spy = SpyFilter()
    test = (torch.zeros(4, 1, 8, 8), torch.tensor([0, 1, 0, 1]))
    cfg = ClassifierConfig(arch="lenet", epochs=2, iters_per_epoch=1, batch_size=16)
    n = 48
    train_classifier_on_generators(
        ConstantG(), 2, test, transform=True, flip=False, filter=spy, threshold=0.9, fixed_size=n, config=cfg
    )
    seen = torch.cat(spy.seen)
    shifted_seen = seen.flatten(1).amax(1) != seen.flatten(1).amin(1)
    assert shifted_seen.float().mean() > 0.8  # the filter saw cropped images (a shift shows in 80 of 81 crops)
    src = captured["source"]
    epoch1, epoch2 = src(n), src(n)
    assert _keys(*epoch1) == _keys(*epoch2)  # the same cached images every epoch, no new crop
    x, y = epoch1
    shifted = x.flatten(1).amax(1) != x.flatten(1).amin(1)
    # the cache holds what the filter accepted: class 0 <=> the (transformed) image shows padding
    assert torch.equal(shifted, y == 0) and 0 < int(shifted.sum()) < n
    assert set(torch.unique(x).tolist()) <= {0.5, -1.0}


def _reference_crops(img: np.ndarray, pad: int = 4) -> list[np.ndarray]:
    """Every crop of ``img`` (H x W) inside a border of ``pad`` black (-1) pixels, built by hand."""
    h, w = img.shape
    canvas = np.full((h + 2 * pad, w + 2 * pad), -1.0)
    canvas[pad : pad + h, pad : pad + w] = img
    return [canvas[a : a + h, b : b + w] for a in range(2 * pad + 1) for b in range(2 * pad + 1)]


def test_crop_padding_is_black_minus_one():
    img = np.ones((6, 6))
    img[0, 0] = 0.25  # a marked corner: the crop offset can be read off the output
    x = torch.tensor(img, dtype=torch.float32).expand(64, 1, 6, 6).contiguous()
    refs = _reference_crops(img)
    real = RealSource(x, torch.zeros(64, dtype=torch.long), augment=True, flip=False, seed=0)
    out_real, _ = real(64)

    class G(nn.Module):
        z_dim, num_classes = 1, 1

        def __init__(self) -> None:
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(1))

        def forward(self, z, y):
            return x[: len(y)] + 0 * self.dummy

    out_syn, _ = SyntheticSource(G(), 1, transform=True, flip=False, seed=1).next_batch(64)
    for out in (out_real, out_syn):
        assert all(any(np.array_equal(o[0].numpy(), r) for r in refs) for o in out)
        # where the marked corner shows at (r, c), the crop started r rows above and c columns left of the image:
        # those rows and columns are padding, and black
        shown = 0
        for o in out:
            at = (o[0] == 0.25).nonzero()
            if len(at) and int(at[0].sum()) > 0:
                r, c = int(at[0, 0]), int(at[0, 1])
                assert torch.all(o[0, :r] == -1.0) and torch.all(o[0, :, :c] == -1.0)
                shown += 1
        assert shown > 10
        assert (out == -1.0).any(dim=(1, 2, 3)).float().mean() > 0.8  # padding shows in 80 of 81 crops
