"""A run on your own G/D records how to rebuild them (class + constructor arguments, or a weightless skeleton), and
``load_models`` rebuilds them with the checkpoint's weights; what cannot be rebuilt says why."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest
import torch
from torch import nn
from train_testutils import TinyD, TinyG, tiny_cfg, tiny_dataset

from ganlab.core.errors import CheckpointError
from ganlab.core.nn import as_discriminator, as_generator
from ganlab.core.train import Trainer
from ganlab.core.train.checkpoint import latest_checkpoint, load_generator, load_models, read_checkpoint
from ganlab.core.train.model_record import rebuild_module, record_models, record_module

MODULE = """
from torch import nn


class Net(nn.Module):
    def __init__(self, n_in, n_out=1, hidden=8):
        super().__init__()
        self.n_in, self.n_out, self.hidden = n_in, n_out, hidden
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, x):
        return self.body(x)


class Explicit(Net):
    def __init__(self, size):
        super().__init__(size * 2, hidden=3)
        self.init_kwargs = {"size": size}


class Hidden(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.lin = nn.Linear(width, 1)
"""


@pytest.fixture
def user_module(tmp_path):
    (tmp_path / "record_user_mod.py").write_text(MODULE)
    sys.path.insert(0, str(tmp_path))
    yield importlib.import_module("record_user_mod")
    sys.path.remove(str(tmp_path))
    sys.modules.pop("record_user_mod", None)


def test_a_record_names_the_class_and_its_real_arguments(user_module):
    net = user_module.Net(5, hidden=7)
    assert record_module(net) == {"class": "record_user_mod:Net", "kwargs": {"n_in": 5, "n_out": 1, "hidden": 7}}
    assert record_module(user_module.Explicit(4))["kwargs"] == {"size": 4}  # init_kwargs wins over attributes
    D = as_discriminator(user_module.Net(64, n_out=3), heads=("adv", "cls"), num_classes=3)
    rec = record_module(D)
    assert rec["class"] == "ganlab.core.nn.protocol:DiscriminatorAdapter"
    assert rec["kwargs"] == {"heads": ["adv", "cls"], "num_classes": 3, "feat_dim": 0, "inputs": []}
    assert rec["module"]["kwargs"] == {"n_in": 64, "n_out": 3, "hidden": 8}
    rebuilt = rebuild_module(rec, "D")
    assert rebuilt.heads == ("adv", "cls") and rebuilt.module.body[1].weight.shape == (8, 64)


def test_what_cannot_be_rebuilt_says_why(user_module):
    class Local(nn.Module):
        pass

    assert "inside a function" in record_module(Local())["reason"]
    assert "*args" in record_module(nn.Sequential(nn.Linear(2, 2)))["reason"]
    assert "no attribute 'width'" in record_module(user_module.Hidden(3))["reason"]
    net = user_module.Net(5)
    net.hidden = 99  # an attribute named like an argument that holds another value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = record_models(as_generator(net, z_dim=5), as_discriminator(user_module.Net(5)))
    assert rec["G"]["rebuildable"] is False and "differs from the trained one" in rec["G"]["reason"]
    assert rec["D"].get("rebuildable", True)
    with pytest.raises(CheckpointError, match="differs from the trained one.*load them into your module"):
        rebuild_module(rec["G"], "G")


def _train(tmp_path, models, ema=False):
    cfg = tiny_cfg(tmp_path, ema__enabled=ema)
    t = Trainer(cfg, run_dir=tmp_path / "run", dataset=tiny_dataset(), models=models)
    t.fit(stop_at=2)
    return t


@pytest.mark.parametrize("ema", [False, True], ids=["G", "G_ema"])
def test_load_models_rebuilds_your_modules_with_the_checkpoint_weights(tmp_path, user_module, ema):
    G = as_generator(nn.Sequential(user_module.Net(8, n_out=64), nn.Tanh(), nn.Unflatten(1, (1, 8, 8))), z_dim=8)
    D = as_discriminator(user_module.Net(64, hidden=5))
    t = _train(tmp_path, (G, D), ema)
    assert t.cfg.model.options["D"]["module"]["kwargs"]["hidden"] == 5
    assert t.cfg.model.options["G"]["rebuildable"] is False  # a Sequential: its skeleton travels instead
    ckpt = latest_checkpoint(tmp_path / "run")
    G2, D2, _, state = load_models(ckpt)
    want = state["ema"]["model"] if ema else state["models"]["G"]
    assert (state["ema"] is not None) == ema
    for k, v in G2.state_dict().items():
        assert torch.equal(v, want[k]), k
    for k, v in D2.state_dict().items():
        assert torch.equal(v, state["models"]["D"][k]), k
    z = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.equal(G2(z), (t.G_ema if ema else t.unwrap(t.G)).eval()(z))
    t.export_generator()
    G3, _ = load_generator(tmp_path / "run")  # G_ema.pt: the record and the weights
    assert torch.equal(G3(z), G2(z))


def test_a_missing_user_module_is_named_with_the_fix(tmp_path, user_module):
    _train(tmp_path, (as_generator(TinyG(), z_dim=8), as_discriminator(user_module.Net(64))))
    sys.modules.pop("record_user_mod")
    sys.path.remove(str(tmp_path))
    try:
        with pytest.raises(CheckpointError, match=r"record_user_mod.*cannot import.*PYTHONPATH") as err:
            load_models(latest_checkpoint(tmp_path / "run"))
        assert "G_ema.pt" not in str(err.value) and "Delete" not in str(err.value)
    finally:
        sys.path.insert(0, str(tmp_path))
    G, D, _, _ = load_models(latest_checkpoint(tmp_path / "run"))  # back on the path: it loads
    assert D is not None and read_checkpoint(latest_checkpoint(tmp_path / "run"))["config"]["model"]["backbone"] == (
        "custom"
    )


def test_recording_leaves_the_training_rng_alone():
    G, D = TinyG(), TinyD()
    torch.manual_seed(0)
    rec = record_models(G, D)  # rebuilds each model once (initialising it), under a forked RNG
    b = torch.rand(1)
    torch.manual_seed(0)
    assert torch.equal(torch.rand(1), b) and rec["G"]["class"].endswith(":TinyG")
