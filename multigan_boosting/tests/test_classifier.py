"""Classifier training: the two reported accuracies, resume, the generator API, nothing written on bad input."""

from __future__ import annotations

import pytest
import torch
from mg_testutils import ConstantClassifier, TinyG

from ganlab.core.errors import ConfigError
from ganlab.multigan_boosting.classifier import (
    ClassifierConfig,
    RealSource,
    summarise,
    train_classifier,
    train_classifier_on_generators,
)
from ganlab.multigan_boosting.synthetic import FilterRejectedError

TINY = dict(arch="resnet20", epochs=3, iters_per_epoch=3, batch_size=16, milestones=[2])


def _real(n=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.tanh(torch.randn(n, 1, 8, 8, generator=g) * 0.3 + (y.float() - 1).view(-1, 1, 1, 1))
    return x, y


def test_summary_reports_best_test_and_val_selected():
    h = [
        {"epoch": 1, "test": 0.5, "val": 0.6},
        {"epoch": 2, "test": 0.8, "val": 0.55},
        {"epoch": 3, "test": 0.7, "val": 0.6},
    ]
    s = summarise(h, ClassifierConfig())
    assert s["best_test_accuracy"] == 0.8 and s["best_test_epoch"] == 2
    assert s["val_selected_epoch"] == 1 and s["val_selected_test_accuracy"] == 0.5  # first epoch of the best val
    assert s["final_test_accuracy"] == 0.7


def test_real_training_and_lr_schedule():
    x, y = _real()
    model, rec = train_classifier(
        RealSource(x, y, augment=True),
        num_classes=3,
        in_channels=1,
        test=_real(60, 1),
        val=_real(60, 2),
        config=ClassifierConfig(**TINY),
    )
    assert [r["epoch"] for r in rec["history"]] == [1, 2, 3]
    assert 0 <= rec["best_test_accuracy"] <= 1 and "val_selected_test_accuracy" in rec


def test_resume_continues_identically(tmp_path):
    x, y = _real()
    test = _real(60, 1)
    _, full = train_classifier(
        RealSource(x, y), num_classes=3, in_channels=1, test=test, config=ClassifierConfig(**TINY)
    )
    ck = tmp_path / "clf.pt"
    part = ClassifierConfig(**{**TINY, "epochs": 2})
    train_classifier(RealSource(x, y), num_classes=3, in_channels=1, test=test, config=part, checkpoint=ck)
    _, resumed = train_classifier(
        RealSource(x, y), num_classes=3, in_channels=1, test=test, config=ClassifierConfig(**TINY), checkpoint=ck
    )
    assert [r["test"] for r in resumed["history"]] == pytest.approx([r["test"] for r in full["history"]])


def test_on_generators_api_plain_module_and_ensemble():
    class Plain(torch.nn.Module):  # a user's G: z_dim and forward(z, y), no num_classes attribute
        z_dim = 4

        def __init__(self):
            super().__init__()
            self.g = TinyG()

        def forward(self, z, y):
            return self.g(z, y)

    _, rec = train_classifier_on_generators(
        [Plain(), TinyG(seed=1)],
        3,
        _real(60, 1),
        val_set=_real(60, 2),
        weights=[3, 1],
        config=ClassifierConfig(**TINY),
    )
    assert rec["n_generators"] == 2 and rec["weights"] == [3.0, 1.0] and rec["generated"] >= 3 * 3 * 16
    _, rec = train_classifier_on_generators(TinyG(), 3, _real(60, 1), fixed_size=50, config=ClassifierConfig(**TINY))
    assert "best_test_accuracy" in rec


def test_reject_all_writes_nothing(tmp_path):
    with pytest.raises(FilterRejectedError, match="acceptance rate"):
        train_classifier_on_generators(
            TinyG(),
            3,
            _real(60, 1),
            filter=ConstantClassifier(),
            threshold=1.0,
            max_tries=3,
            config=ClassifierConfig(**TINY),
            checkpoint=tmp_path / "out" / "clf.pt",
        )
    assert list(tmp_path.iterdir()) == []


def test_bad_config():
    with pytest.raises(ConfigError, match="arch"):
        ClassifierConfig(arch="vgg").validate()
