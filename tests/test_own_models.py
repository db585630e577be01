"""Dia-GAN and instance selection on a user's plain nn.Sequential G/D and a plain torch TensorDataset, inside the
ganlab trainer and from the user's own loop: both paths give the same numbers, and bad models fail before step 1."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.core.nn import ContractError, as_discriminator, as_generator
from ganlab.core.train import Trainer
from ganlab.core.train.config import load_experiment
from ganlab.diagan.ldr import LDRStatistics, compute_scores, evaluate_ldr, ldr_statistics
from ganlab.diagan.method import DiaGAN, DiaGANOptions
from ganlab.instance_selection.api import SelectionConfig, select_instances
from ganlab.instance_selection.methods import InstanceSelection
from ganlab.instance_selection.scoring import score_instances
from ganlab.instance_selection.selection import select

SHAPE = (1, 8, 8)


def plain_models(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    g = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.Tanh(), nn.Unflatten(1, SHAPE))
    d = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    return g, d


def data(n: int = 96) -> torch.utils.data.TensorDataset:
    g = torch.Generator().manual_seed(1)
    return torch.utils.data.TensorDataset(torch.rand(n, *SHAPE, generator=g) * 2 - 1, torch.arange(n) % 3)


def cfg(steps: int, *extra: str):
    return load_experiment(
        None, ["data.name=mine", f"train.steps={steps}", "train.batch_size=16", "train.progress=false", *extra]
    )


def test_diagan_on_plain_modules_and_the_same_scores_from_the_functions(tmp_path):
    g, d = plain_models()
    method = DiaGAN(DiaGANOptions(phase1_steps=8, window=3, record_every=2, k=1.0))
    trainer = Trainer(cfg(12), method, run_dir=tmp_path / "run", dataset=data(),
                      models=(as_generator(g, z_dim=16), as_discriminator(d)))  # fmt: skip
    trainer.fit()
    assert method.phase == 2 and trainer.cfg.model.backbone == "custom"
    assert np.isclose(method.probs.sum(), 1.0) and len(method.probs) == 96
    # the user's-loop path: the same records through the plain functions give the same scores
    steps, records = method.tracker.window_records(before=8)
    assert steps.tolist() == [2, 4, 6]
    ldrm, ldrv = ldr_statistics(records)
    own = compute_scores(LDRStatistics(ldrm, ldrv, records[-1].astype(np.float64), steps), k=1.0)
    np.testing.assert_array_equal(own.probs, method.probs)
    np.testing.assert_array_equal(own.score, method.scores.score)
    # LDRM is the mean of the recorded logits, and a record is D's raw logit of every instance
    np.testing.assert_allclose(ldrm, records.astype(np.float64).mean(0), rtol=1e-12)
    D = trainer.unwrap(trainer.D).eval()
    now = evaluate_ldr(lambda b: D(b["image"])["adv"], trainer.dataset, batch_size=40)
    with torch.no_grad():
        np.testing.assert_allclose(now, D(data().tensors[0])["adv"].numpy(), rtol=1e-5, atol=1e-6)
    scores = method.instance_scores(trainer)
    np.testing.assert_array_equal(scores["ldrm"], method.scores.ldrm)


def test_instance_selection_on_plain_modules_matches_the_functions(tmp_path):
    ds = data()
    images, labels = ds.tensors
    features = nn.functional.avg_pool2d(images, 2).flatten(1).numpy()  # 16-d stand-in embedding
    from ganlab.core.data import from_torch

    gds = from_torch(ds, name="mine")
    sel = select_instances(gds, SelectionConfig(scorer="gaussian", retention_ratio=50), features=features)
    own = select(score_instances(features, labels.numpy(), "gaussian"), labels.numpy(), retention_ratio=50)
    np.testing.assert_array_equal(np.sort(sel.indices), np.sort(own))
    g, d = plain_models()
    trainer = Trainer(cfg(3), InstanceSelection(selection=sel), run_dir=tmp_path / "run", dataset=gds,
                      models=(as_generator(g, z_dim=16), as_discriminator(d)))  # fmt: skip
    drawn = trainer.sampler_of("main").next_indices(200)
    assert set(np.asarray(drawn).tolist()) <= set(own.tolist())  # the GAN only ever sees kept instances
    trainer.fit()


def test_a_bad_user_model_fails_before_step_one_in_a_method_run(tmp_path):
    g, _ = plain_models()
    d_plain = nn.Sequential(nn.Flatten(), nn.Linear(64, 1), nn.Flatten(0))  # not wrapped: takes no y=/feat=
    with pytest.raises(ContractError, match=r"D: expected forward\(x, y=None, feat=None\).*as_discriminator") as info:
        Trainer(cfg(4), DiaGAN(DiaGANOptions(phase1_steps=2, window=2, record_every=1)), run_dir=tmp_path / "r",
                dataset=data(), models=(as_generator(g, z_dim=16), d_plain))  # fmt: skip
    assert "\n" not in str(info.value) and not (tmp_path / "r").exists()
    with pytest.raises(ContractError, match="z_dim"):
        Trainer(cfg(4), run_dir=tmp_path / "r", dataset=data(), models=plain_models())
    assert not (tmp_path / "r").exists()
