"""The GAN checkpoint rule: the paper config keeps the best G by IS (tested every 5k steps), through core's
BestSelector; mini keeps the last G; the rule is written into result records."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from mg_testutils import TinyG

from ganlab.core.config import load_config
from ganlab.core.errors import ConfigError
from ganlab.core.repro_harness import Arm, Harness
from ganlab.core.results import RunDir
from ganlab.core.train.checkpoint import CUSTOM_BACKBONE, export_generator
from ganlab.core.train.config import ExperimentConfig, resolve_config
from ganlab.core.train.evaluation_schedule import BestSelector
from ganlab.multigan_boosting.boost import selected_generator
from ganlab.multigan_boosting.repro import CONFIGS, load_repro_config


def test_paper_config_keeps_best_g_by_is_every_5k_steps(tmp_path):
    cfg = load_repro_config(CONFIGS / "table1_M.yaml", "paper")
    k = cfg.protocol.checkpoint
    assert (k.choice, k.metric, k.every, k.direction, k.n_fake) == ("best", "is", 5000, "max", 10000)
    # the GANs' training config (what sequences.Shared trains with): core's periodic IS and BestSelector
    ecfg = Harness(cfg, RunDir(tmp_path / "paper")).train_config(Arm("gan"), seed=36)
    assert ecfg.seed == 36 and ecfg.eval.select_best == "is" and ecfg.eval.every == 5000
    assert ecfg.eval.metrics == ["is"] and ecfg.eval.n_fake == 10000
    rec = cfg.protocol.as_record()  # the rule as it goes into result records (no feature metric: only the rule)
    assert rec == {"eval_checkpoint": "best", "eval_select_metric": "is", "eval_select_every": 5000,
                   "eval_select_mode": "max", "eval_patience": 0}  # fmt: skip
    assert "best IS (highest) over evaluations every 5000 steps" in cfg.protocol.describe()
    mini = load_repro_config(CONFIGS / "table1_M.yaml", "mini")
    assert mini.protocol.checkpoint.choice == "last"
    assert Harness(mini, RunDir(tmp_path / "mini")).train_config(Arm("gan"), 0).eval.select_best is None
    with pytest.raises(ConfigError, match="checkpoint"):
        load_repro_config(CONFIGS / "table1_M.yaml", "mini", ["protocol.checkpoint.choice=final"])


def test_best_checkpoint_selects_the_highest_is_step(tmp_path):
    """A scripted IS sequence through core's BestSelector; the package's selected G is the G of the best step."""
    cfg = load_config(ExperimentConfig, resolve_config("biggan32_cifar_multigan"), scale="smoke")
    cfg.model.backbone = CUSTOM_BACKBONE  # the export keeps the module itself

    def g_at(step: int) -> TinyG:
        G = TinyG(num_classes=10)
        with torch.no_grad():
            G.lin.bias.fill_(float(step))  # the step is readable from the weights
        return G

    events: list[dict] = []
    trainer = SimpleNamespace(
        cfg=cfg, step=0, G_ema=None, run_dir=SimpleNamespace(path=tmp_path, log_event=events.append)
    )
    sel = BestSelector("is", tmp_path)
    scripted = [(5000, 6.1), (10000, 7.4), (15000, 7.2), (20000, 6.9)]  # IS: higher is better; best at 10k
    for step, value in scripted:
        trainer.step, trainer.G_ema = step, g_at(step)
        sel.update(trainer, [{"metric": "is", "value": value}])
    export_generator(g_at(20000), cfg, 20000, tmp_path / "G_ema.pt")  # the final G_ema
    want = max(scripted, key=lambda sv: sv[1])[0]
    assert sel.best_step == want == 10000
    assert float(selected_generator(tmp_path, checkpoint="best").lin.bias.detach()[0]) == want
    assert float(selected_generator(tmp_path, checkpoint="last").lin.bias.detach()[0]) == 20000
    (tmp_path / "best_G.pt").unlink()
    with pytest.raises(ConfigError, match="no best generator"):
        selected_generator(tmp_path, checkpoint="best")
