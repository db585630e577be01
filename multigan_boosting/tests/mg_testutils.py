"""Tiny conditional generators and classifiers for the multigan tests."""

from __future__ import annotations

import torch
from torch import nn


class TinyG(nn.Module):
    """z (B, 4), y (B,) -> (B, 1, 8, 8) in [-1, 1]; the class shifts the image so a classifier can tell them apart."""

    def __init__(self, num_classes: int = 3, z_dim: int = 4, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.z_dim, self.num_classes = z_dim, num_classes
        self.lin = nn.Linear(z_dim, 64)
        self.emb = nn.Embedding(num_classes, 64)

    def forward(self, z, y):
        return torch.tanh(self.lin(z) + 3 * self.emb(y)).view(-1, 1, 8, 8)


class LinearClassifier(nn.Module):
    def __init__(self, num_classes: int = 3, seed: int = 1, scale: float = 1.0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.num_classes, self.in_channels = num_classes, 1
        self.lin = nn.Linear(64, num_classes)
        self.scale = scale

    def forward(self, x):
        return self.scale * self.lin(x.flatten(1))


class ConstantClassifier(nn.Module):
    """Uniform softmax: p_y = 1/K for every image (a filter at threshold 1 rejects everything)."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.zeros(len(x), self.num_classes) + 0 * self.dummy
