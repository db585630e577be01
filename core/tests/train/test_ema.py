"""EMA against hand arithmetic."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganlab.core.errors import ConfigError
from ganlab.core.train.ema import EMA


def _set(model, w, b):
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([w]))
        model[0].bias.copy_(torch.tensor(b))


def test_copy_before_start_then_lerp():
    model = nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))
    _set(model, [1.0, 2.0], [0.5])
    ema = EMA(model, decay=0.9, start=2)
    _set(model, [3.0, -1.0], [1.5])
    ema.update(model, step=1)  # before start: a copy
    assert ema.model[0].weight.tolist() == [[3.0, -1.0]]
    _set(model, [5.0, 1.0], [0.0])
    model[1].running_mean.fill_(7.0)
    ema.update(model, step=2)  # from start on: 0.9 * ema + 0.1 * param
    assert ema.model[0].weight[0].tolist() == pytest.approx([0.9 * 3 + 0.1 * 5, 0.9 * -1 + 0.1 * 1])
    assert ema.model[0].bias.item() == pytest.approx(0.9 * 1.5)
    assert ema.model[1].running_mean.item() == 7.0  # buffers are copied
    _set(model, [0.0, 0.0], [1.0])
    ema.update(model, step=3)
    assert ema.model[0].weight[0, 0].item() == pytest.approx(0.9 * (0.9 * 3 + 0.1 * 5))
    assert ema.model[0].bias.item() == pytest.approx(0.9 * 0.9 * 1.5 + 0.1 * 1.0)
    assert not ema.model.training and not any(p.requires_grad for p in ema.model.parameters())


def test_state_roundtrip_and_bad_decay():
    model = nn.Linear(3, 2)
    ema = EMA(model, decay=0.5)
    ema.update(nn.Linear(3, 2), step=5)
    other = EMA(model, decay=0.5)
    other.load_state_dict(ema.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(ema.model.state_dict().values(), other.model.state_dict().values()))
    with pytest.raises(ConfigError, match="decay"):
        EMA(model, decay=1.5)
