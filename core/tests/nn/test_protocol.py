"""Your own modules under the model contract: adapters, and one clear error per violation before any step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganlab.core.data import from_arrays
from ganlab.core.nn import as_discriminator, as_generator, check_models
from ganlab.core.nn.protocol import ContractError
from ganlab.core.train import Trainer
from ganlab.core.train.config import load_experiment

SHAPE = (1, 8, 8)


def plain_g(z_dim: int = 16) -> nn.Module:
    return nn.Sequential(nn.Linear(z_dim, 64), nn.ReLU(), nn.Linear(64, 64), nn.Tanh(), nn.Unflatten(1, SHAPE))


def plain_d(out: int = 1) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.2), nn.Linear(32, out))


class TwoHeads(nn.Module):
    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.2))
        self.adv, self.cls = nn.Linear(32, 1), nn.Linear(32, classes)

    def forward(self, x):
        h = self.body(x)
        return self.adv(h), self.cls(h)


class CondG(nn.Module):
    def __init__(self, z_dim: int = 16, classes: int = 3) -> None:
        super().__init__()
        self.emb = nn.Embedding(classes, z_dim)
        self.net = plain_g(z_dim)

    def forward(self, z, y):
        return self.net(z * self.emb(y))


def test_adapters_follow_the_contract():
    G = as_generator(plain_g(), z_dim=16)
    D = as_discriminator(plain_d())
    check_models(G, D, data_shape=SHAPE)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, *SHAPE) and float(x.abs().max()) <= 1
    out = D(x)
    assert set(out) == {"adv"} and out["adv"].shape == (5,)  # a (B, 1) logit is flattened
    # declared heads name a tuple output; a class-conditional G gets y
    D2 = as_discriminator(TwoHeads(), heads=("adv", "cls"), num_classes=3)
    G2 = as_generator(CondG(), z_dim=16, num_classes=3)
    check_models(G2, D2, data_shape=SHAPE, num_classes=3, heads=("adv", "cls"))
    y = torch.tensor([0, 1, 2, 1])
    x2 = G2(torch.randn(4, 16), y=y)
    assert D2(x2)["cls"].shape == (4, 3)
    # G really uses y: the same z with another label gives another image
    z = torch.randn(1, 16).repeat(2, 1)
    a = G2(z, y=torch.tensor([0, 1]))
    assert not torch.allclose(a[0], a[1])
    # a flat output is reshaped when declared
    flat = nn.Sequential(nn.Linear(16, 64), nn.Tanh())
    assert as_generator(flat, z_dim=16, output_shape=SHAPE)(torch.randn(3, 16)).shape == (3, *SHAPE)


class Returns(nn.Module):
    def __init__(self, value) -> None:
        super().__init__()
        self.value = value
        self.p = nn.Parameter(torch.zeros(1))

    def forward(self, x, y=None, feat=None):
        return self.value(x) if callable(self.value) else self.value


VIOLATIONS = [
    # (what, G, D, kwargs, the message must say)
    ("G without z_dim", plain_g(), as_discriminator(plain_d()), {}, r"z_dim.*as_generator"),
    (
        "z_dim does not fit G's first layer",
        as_generator(plain_g(16), z_dim=10),
        as_discriminator(plain_d()),
        {},
        r"G: calling it with input=\(2, 10\) failed.*mat1 and mat2",
    ),
    (
        "G makes the wrong shape",
        as_generator(nn.Sequential(nn.Linear(16, 48), nn.Unflatten(1, (3, 4, 4))), z_dim=16),
        as_discriminator(plain_d()),
        {},
        r"expected samples of shape \(B, 1, 8, 8\).*got \(2, 3, 4, 4\)",
    ),
    (
        "D returns a tensor, not a dict",
        as_generator(plain_g(), z_dim=16),
        Returns(lambda x: x.flatten(1)[:, 0]),
        {},
        r'D: expected a dict \{"adv".*got a Tensor.*as_discriminator',
    ),
    (
        "D's dict has no adv",
        as_generator(plain_g(), z_dim=16),
        Returns(lambda x: {"logit": x.flatten(1)[:, 0]}),
        {},
        r'expected a dict with key "adv", got logit',
    ),
    (
        "adv is not one logit per item",
        as_generator(plain_g(), z_dim=16),
        as_discriminator(plain_d(out=2)),
        {},
        r"adv of shape \(B,\).*got \(2, 2\)",
    ),
    (
        "the method needs a class head D lacks",
        as_generator(plain_g(), z_dim=16),
        as_discriminator(plain_d()),
        {"num_classes": 3, "heads": ("adv", "cls")},
        r"a 'cls' head.*heads=\('adv', 'cls'\)",
    ),
    (
        "a conditional G on unlabelled data",
        as_generator(CondG(), z_dim=16, num_classes=3),
        as_discriminator(plain_d()),
        {"num_classes": 0},
        r"unconditional generator for an unlabelled dataset.*num_classes=3",
    ),
    (
        "D's forward takes no keywords",
        as_generator(plain_g(), z_dim=16),
        plain_d(),
        {},
        r"D: expected forward\(x, y=None, feat=None\), got TypeError",
    ),
]


@pytest.mark.parametrize(("what", "G", "D", "kwargs", "message"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_each_violation_is_one_clear_error(what, G, D, kwargs, message):
    with pytest.raises(ContractError, match=message) as info:
        check_models(G, D, data_shape=SHAPE, **kwargs)
    assert "\n" not in str(info.value) and "Fix:" in str(info.value)  # one line: what, what came back, how to fix


@pytest.mark.parametrize(("what", "G", "D", "kwargs", "message"), VIOLATIONS[:6], ids=[v[0] for v in VIOLATIONS[:6]])
def test_the_trainer_rejects_violations_before_step_one_and_writes_nothing(tmp_path, what, G, D, kwargs, message):
    ds = from_arrays(torch.rand(16, *SHAPE) * 2 - 1, name="tiny")
    cfg = load_experiment(None, ["train.steps=2", "train.batch_size=8", "train.progress=false", "data.name=tiny"])
    with pytest.raises(ContractError, match=message):
        Trainer(cfg, run_dir=tmp_path / "run", dataset=ds, models=(G, D))
    assert list(tmp_path.iterdir()) == []


def test_a_run_on_plain_modules_records_a_custom_backbone_and_exports_the_module(tmp_path):
    ds = from_arrays(torch.rand(32, *SHAPE) * 2 - 1, name="tiny")
    cfg = load_experiment(None, ["train.steps=3", "train.batch_size=8", "train.progress=false", "data.name=tiny"])
    t = Trainer(cfg, run_dir=tmp_path / "run", models=(as_generator(plain_g(), z_dim=16), as_discriminator(plain_d())),
                dataset=ds)  # fmt: skip
    t.fit()
    assert t.cfg.model.backbone == "custom" and cfg.model.backbone == "dcgan"  # the caller's config is untouched
    from ganlab.core.train.checkpoint import load_generator

    G, info = load_generator(t.export_generator())
    z = torch.randn(4, 16)
    assert torch.allclose(G(z), t.G_ema.eval()(z)) and info["step"] == 3
