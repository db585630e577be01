"""Evaluation pieces: LPIPS diversity is 0 for a G that ignores z and positive otherwise; LT class groups;
reference subsets are seeded."""

from __future__ import annotations

import numpy as np
import torch

from ganlab.icgan.evaluate import class_groups, lpips_diversity, reference_indices
from ganlab.icgan.instances import StoredInstances


class _G(torch.nn.Module):
    z_dim, feat_dim, num_classes = 4, 6, 0

    def __init__(self, use_z: bool) -> None:
        super().__init__()
        self.use_z = use_z
        self.lin = torch.nn.Linear(6 + 4, 3 * 64 * 64)

    def forward(self, z, y=None, feat=None):
        z = z if self.use_z else torch.zeros_like(z)
        return torch.tanh(self.lin(torch.cat([feat, z], 1))).view(-1, 3, 64, 64)


def test_lpips_diversity_zero_without_z_positive_with_z():
    from ganlab.core.metrics.perceptual import LPIPS

    model = LPIPS(pretrained_trunk=False)
    torch.manual_seed(0)
    stored = StoredInstances(torch.nn.functional.normalize(torch.randn(5, 6), dim=1).numpy())
    assert lpips_diversity(_G(False), stored, 8, model=model) == 0.0
    assert lpips_diversity(_G(True), stored, 8, model=model) > 0.0


def test_lt_class_groups_follow_the_thresholds():
    counts = {0: 150, 1: 101, 2: 100, 3: 20, 4: 19, 5: 1}
    labels = np.concatenate([np.full(n, c) for c, n in counts.items()])
    g = class_groups(labels, 7)  # class 6 has no image and belongs to no group
    assert g["many"].tolist() == [0, 1] and g["medium"].tolist() == [2, 3] and g["few"].tolist() == [4, 5]


def test_reference_indices_are_a_seeded_subset():
    a, b = reference_indices(100, 10, seed=3), reference_indices(100, 10, seed=3)
    assert np.array_equal(a, b) and len(set(a.tolist())) == 10 and np.all(np.diff(a) > 0)
    assert np.array_equal(reference_indices(5, None), np.arange(5))
