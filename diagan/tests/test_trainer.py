"""Dia-GAN through the real core trainer: phase change, checkpoint resume in phase 2, init_from phase 1."""

from __future__ import annotations

import numpy as np
import torch

from ganlab.core.data import get_dataset
from ganlab.core.data.samplers import WeightedSampler
from ganlab.core.train.config import ExperimentConfig
from ganlab.core.train.trainer import Trainer
from ganlab.diagan.method import AUX, DiaGAN, DiaGANOptions


def _cfg(tmp_path, steps=24, **opts) -> ExperimentConfig:
    cfg = ExperimentConfig()
    cfg.name = "t"
    cfg.out_dir = str(tmp_path)
    cfg.data.name = "gaussians25"
    cfg.data.options = {"n": 200}
    cfg.train.steps = steps
    cfg.train.batch_size = 20
    cfg.train.log_every = 0
    cfg.train.sample_every = 0
    cfg.train.checkpoint_every = 4
    cfg.train.keep_last = 10
    cfg.train.progress = False
    cfg.train.tensorboard = False
    cfg.optim.betas = (0.5, 0.999)
    cfg.optim.lr_decay = "linear"
    cfg.method.name = "diagan"
    cfg.method.options = {"phase1_steps": 16, "k": 1.0, "window": 3, "record_every": 4, **opts}
    return cfg


def _trainer(cfg, run_dir, models, **kw):
    ds = get_dataset(cfg.data.name, **cfg.data.options)
    method = DiaGAN(DiaGANOptions(**cfg.method.options))
    return Trainer(cfg, method, run_dir=run_dir, dataset=ds, models=models(), **kw), method


def test_full_run_phase_change_and_resume(tmp_path, toy_models):
    cfg = _cfg(tmp_path)
    trainer, m = _trainer(cfg, tmp_path / "a", toy_models)
    m.aux_seen = []
    trainer.fit()
    assert m.phase == 2 and trainer.step == 24
    np.testing.assert_array_equal(m.scores.steps, [4, 8, 12])
    assert isinstance(trainer.sampler_of("main"), WeightedSampler)
    assert len(np.concatenate(m.aux_seen)) == 8 * 20  # phase 2: steps 17..24, one aux batch per D step
    # resume from the step-20 checkpoint (phase 2): the weighted sampler is restored at its exact position
    trainer_b, mb = _trainer(
        cfg, tmp_path / "a", toy_models, resume=tmp_path / "a" / "checkpoints" / "step_00000020.pt"
    )
    assert mb.phase == 2 and trainer_b.step == 20
    sampler = trainer_b.sampler_of("main")
    assert isinstance(sampler, WeightedSampler)
    np.testing.assert_allclose(sampler.probabilities, m.probs)
    state20 = torch.load(tmp_path / "a" / "checkpoints" / "step_00000020.pt", weights_only=False)
    assert sampler.position == state20["streams"][0]["main"]["state"]["position"]
    trainer_b.fit()
    assert trainer_b.step == 24


def test_init_from_phase1_checkpoint(tmp_path, toy_models):
    # a vanilla run that records the Dia-GAN window [4, 16) and continues past it
    cfg_v = _cfg(tmp_path, phase1_steps=None, record_until=16, aux_discriminator=False)
    tv, mv = _trainer(cfg_v, tmp_path / "v", toy_models)
    tv.fit()
    np.testing.assert_array_equal(mv.tracker.held_records()[0], [4, 8, 12])
    ckpt = tmp_path / "v" / "checkpoints" / "step_00000016.pt"
    # phase 2 from its step-16 checkpoint: models, optimiser state and step come from phase 1
    cfg = _cfg(tmp_path)
    td, md = _trainer(cfg, tmp_path / "d", toy_models, init_from=ckpt)
    assert td.step == 16
    state = torch.load(ckpt, weights_only=False)
    for k, v in td.unwrap(td.D).state_dict().items():
        assert torch.equal(v, state["models"]["D"][k])
    td.fit()
    assert md.phase == 2 and td.step == 24
    np.testing.assert_array_equal(md.scores.steps, [4, 8, 12])
    ref = np.stack([np.asarray(state["method"]["tracker"]["records"][i]) for i in range(3)]).astype(np.float64)
    np.testing.assert_allclose(md.scores.ldrm, ref.mean(0), rtol=1e-6)
    assert AUX in td.models
