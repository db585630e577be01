"""The evaluation protocols of the paper configs (issue 11): evaluation vs embedding network, IS, best checkpoint."""

from __future__ import annotations

import inspect

import pytest
import torch

from ganlab.core.features import get_extractor
from ganlab.core.features.extractors import TorchvisionInception
from ganlab.instance_selection.api import SelectionConfig
from ganlab.instance_selection.repro import CONFIGS, arm_run_config, eval_extractor_options, load

PAPER_TRAIN = ("table1", "table2", "table3", "figure5")


@pytest.mark.parametrize("name", PAPER_TRAIN)
def test_evaluation_and_embedding_inception_settings_differ_as_the_official_code(name):
    cfg, run_cfg = load(CONFIGS / f"{name}.yaml", "paper")
    p = cfg.protocol
    # evaluation: BigGAN-PyTorch's inception_utils, torchvision Inception-v3 with transform_input=False
    assert p.extractor == "inception_torchvision"
    assert eval_extractor_options(p) == {"transform_input": False}
    # selection embedding: instance_selection.py, inception_v3(pretrained=True) -> torchvision's transform_input=True
    sel = SelectionConfig(**p.selection)
    assert sel.embedding == "inception_torchvision"
    default = inspect.signature(TorchvisionInception).parameters["transform_input"].default
    assert sel.embedding_options.get("transform_input", default) is True
    assert p.is_splits == 10 and p.n_fake == 50000 and p.n_prdc == 10000 and p.k == 5
    if name != "table2":  # the SAGAN launch script: --test_every 5000 --which_best FID
        assert p.eval_every == 5000


def test_transform_input_changes_the_features():
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    on, off = (
        get_extractor("random:inception", image_size=75, transform_input=t).eval()(x).detach() for t in (True, False)
    )
    assert not torch.allclose(on, off)
    assert get_extractor("random:inception", image_size=75, transform_input=False).options["transform_input"] is False
    # the option reaches torchvision's Inception only (stand-in extractors keep their own options)
    cfg, _ = load(CONFIGS / "table1.yaml", "smoke")
    assert "transform_input" not in eval_extractor_options(cfg.protocol)


def test_table2_baseline_arm_is_biggan_at_batch_2048_for_186k():
    cfg, run_cfg = load(CONFIGS / "table2.yaml", "paper")
    arms = {a.name: arm_run_config(run_cfg, a) for a in cfg.protocol.arms}
    base, sel = arms["biggan"], arms["biggan_instance_selection"]
    assert (base.train.batch_size, base.train.steps) == (2048, 186000)
    assert base.train.batch_size // base.optim.d_accum == 256  # micro-batches of the 256 run's size
    assert (sel.train.batch_size, sel.train.steps) == (256, 300000)
    assert base.model == sel.model and base.optim.g_lr == sel.optim.g_lr
