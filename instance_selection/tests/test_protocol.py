"""The evaluation protocols of the paper configs (issues 11, 20): evaluation vs embedding network, IS, best
checkpoint, declared as core's EvalProtocol and named in the README in the words of ``describe()``."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch

from ganlab.core.evaluation.protocol import EvalProtocol
from ganlab.core.features import get_extractor
from ganlab.core.features.extractors import TorchvisionInception
from ganlab.core.repro import describe_protocol
from ganlab.instance_selection.api import SelectionConfig
from ganlab.instance_selection.repro import CONFIGS, EXPERIMENTS, arm_run_config, load

PAPER_TRAIN = ("table1", "table2", "table3", "figure5")


@pytest.mark.parametrize("name", PAPER_TRAIN)
def test_evaluation_and_embedding_inception_settings_differ_as_the_official_code(name):
    cfg, run_cfg = load(CONFIGS / f"{name}.yaml", "paper")
    p = cfg.protocol
    assert isinstance(p, EvalProtocol)
    # evaluation: BigGAN-PyTorch's inception_utils, torchvision Inception-v3 with transform_input=False
    assert p.network.name == "inception_torchvision" and p.resize.method == "torchvision"
    assert p.extractor_options() == {"transform_input": False, "image_size": 299}
    # selection embedding: instance_selection.py, inception_v3(pretrained=True) -> torchvision's transform_input=True
    sel = SelectionConfig(**cfg.selection)
    assert sel.embedding == "inception_torchvision"
    default = inspect.signature(TorchvisionInception).parameters["transform_input"].default
    assert sel.embedding_options.get("transform_input", default) is True
    assert p.is_splits == 10 and p.n_fake == 50000 and p.prdc.n_real == p.prdc.n_fake == 10000 and p.prdc.k == 5
    assert p.reference.draw == "all" and p.metrics == ["is", "fid", "prdc"]
    if name != "table2":  # the SAGAN launch script: --test_every 5000 --which_best FID
        assert (p.checkpoint.choice, p.checkpoint.metric, p.checkpoint.every) == ("best_and_last", "fid", 5000)
    else:
        assert p.checkpoint.choice == "last"


def test_transform_input_changes_the_features():
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    on, off = (
        get_extractor("random:inception", image_size=75, transform_input=t).eval()(x).detach() for t in (True, False)
    )
    assert not torch.allclose(on, off)
    assert get_extractor("random:inception", image_size=75, transform_input=False).options["transform_input"] is False
    # the option reaches torchvision's Inception only (stand-in extractors keep their own options)
    cfg, _ = load(CONFIGS / "table1.yaml", "smoke")
    assert "transform_input" not in cfg.protocol.extractor_options()


def test_table2_baseline_arm_is_biggan_at_batch_2048_for_186k():
    cfg, run_cfg = load(CONFIGS / "table2.yaml", "paper")
    arms = {a.name: arm_run_config(run_cfg, a) for a in cfg.arms}
    base, sel = arms["biggan"], arms["biggan_instance_selection"]
    assert (base.train.batch_size, base.train.steps) == (2048, 186000)
    assert base.train.batch_size // base.optim.d_accum == 256  # micro-batches of the 256 run's size
    assert (sel.train.batch_size, sel.train.steps) == (256, 300000)
    assert base.model == sel.model and base.optim.g_lr == sel.optim.g_lr


def test_readme_names_each_protocol_in_the_words_of_describe():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name, exp in EXPERIMENTS.items():
        scale = "paper" if "paper" in exp.scales else exp.scales[-1]
        assert f"| `{name}` | {scale} | {describe_protocol(exp, scale)} |" in readme, name


def test_unknown_protocol_keys_fail_before_any_work():
    from ganlab.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"unknown config key 'protocol.n_prdc'.*did you mean"):
        load(CONFIGS / "table1.yaml", "smoke", ["protocol.n_prdc=10"])
    with pytest.raises(ConfigError, match="retention_ratio: 100"):
        load(CONFIGS / "table1.yaml", "smoke", ["arms=[{name: x, scorer: none, retention_ratio: 50}]"])
