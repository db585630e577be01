"""A generator fed the protocol's drawn labels / instances, whatever batches the sampler asks for."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.core.errors import ConfigError
from ganlab.core.evaluation.conditioning import ConditionedGenerator
from ganlab.core.evaluation.draws import draw_labels
from ganlab.core.metrics.sources import generator_image_fn


class Recorder(nn.Module):
    """Records the labels and features it is called with; images = the label (and the feature) as pixels."""

    def __init__(self, num_classes=4, feat_dim=0):
        super().__init__()
        self.z_dim, self.num_classes, self.feat_dim = 2, num_classes, feat_dim
        self.seen_y, self.seen_feat = [], []

    def forward(self, z, y=None, feat=None):
        self.seen_y.append(y)
        if feat is not None:
            self.seen_feat.append(feat)
        return torch.zeros(len(z), 1, 2, 2) + (0 if y is None else y.view(-1, 1, 1, 1).float())


def test_labels_follow_the_draw_across_batches():
    train = np.repeat(np.arange(4), [70, 20, 9, 1])
    labels = draw_labels(10, "train_distribution", seed=3, num_classes=4, train_labels=train)
    G = Recorder()
    wrapped = ConditionedGenerator(G, labels)
    fn = generator_image_fn(wrapped, 0, torch.device("cpu"))
    images = torch.cat([fn(3), fn(3), fn(4)])  # uneven batches
    np.testing.assert_array_equal(torch.cat(G.seen_y).numpy(), labels)
    np.testing.assert_array_equal(images[:, 0, 0, 0].numpy(), labels)
    with pytest.raises(ConfigError, match="11 samples asked of a generator conditioned on 10 draws"):
        fn(1)
    wrapped.rewind()
    fn(2)
    np.testing.assert_array_equal(G.seen_y[-1].numpy(), labels[:2])


def test_instance_features_follow_the_draw():
    feats = torch.arange(12.0).view(6, 2)
    pos = np.array([5, 0, 0, 3])
    G = Recorder(num_classes=0, feat_dim=2)
    fn = generator_image_fn(ConditionedGenerator(G, None, feats[pos]), 0, torch.device("cpu"))
    fn(3), fn(1)
    torch.testing.assert_close(torch.cat(G.seen_feat), feats[pos])
    with pytest.raises(ConfigError, match="needs drawn labels or instance features"):
        ConditionedGenerator(G)
