"""The Dia-GAN method's phases, step by step through its hooks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganlab.core.data.samplers import InfiniteSampler, WeightedSampler
from ganlab.core.errors import ConfigError
from ganlab.diagan.ldr import clip_scores, discrepancy_score, evaluate_ldr, module_mode
from ganlab.diagan.method import AUX, DiaGAN, DiaGANOptions


def _method(**kw) -> DiaGAN:
    base = dict(phase1_steps=10, k=1.0, window=3, record_every=2)
    base.update(kw)
    return DiaGAN(DiaGANOptions(**base))


def test_records_at_the_right_steps_and_scores_at_phase_change(make_run):
    run = make_run(steps=14)
    m = _method()
    run.start(m)
    expected = {}
    for _ in range(14):
        run.train_step()
        # an independent record of D's logits after steps 4, 6, 8 (the window [10 - 3*2, 10))
        if run.step in (4, 6, 8):
            with module_mode(run.D, train=False):
                expected[run.step] = evaluate_ldr(lambda b: run.D(b["image"])["adv"], run.dataset)
        if run.step == 9:
            assert m.phase == 1 and isinstance(run.streams["main"], InfiniteSampler)
        if run.step == 10:
            assert m.phase == 2
    np.testing.assert_array_equal(m.scores.steps, [4, 6, 8])
    recs = np.stack([expected[s] for s in (4, 6, 8)]).astype(np.float64)
    s = recs.mean(0) + 1.0 * recs.std(0, ddof=1)
    np.testing.assert_allclose(m.scores.score, s, rtol=1e-5, atol=1e-6)
    c = np.maximum(s, 0.01)
    c = np.minimum(c, c.min() * 50)
    np.testing.assert_allclose(m.probs, c / c.sum(), rtol=1e-5)
    main = run.streams["main"]
    assert isinstance(main, WeightedSampler)
    np.testing.assert_allclose(main.probabilities, m.probs)
    saved = np.load(run.run_dir / "ldr" / "scores.npz")
    np.testing.assert_allclose(saved["probs"], m.probs)


def test_phase2_resumes_from_phase1_state_and_aux_d_copies_d(make_run):
    run = make_run(steps=12)
    m = _method()
    run.start(m)
    for _ in range(9):
        run.train_step()
    d_opt_state_before = None
    # run step 10 by hand so the state right before the phase change can be compared
    real = m.next_real(run)
    fake = m.sample_fake(run, 10, real)
    run.optimize("D", m.d_loss(run, real, fake)[0])
    m.after_d_step(run, real, fake)
    run.optimize("G", m.g_loss(run, m.sample_fake(run, 10))[0])
    run.step += 1
    d_params = {k: v.clone() for k, v in run.D.state_dict().items()}
    g_params = {k: v.clone() for k, v in run.G.state_dict().items()}
    d_opt_state_before = run.optimizers["D"].state_dict()
    m.on_step_end(run)  # phase change
    assert m.phase == 2 and run.step == 10
    for k, v in run.D.state_dict().items():  # nothing was reset
        assert torch.equal(v, d_params[k])
    for k, v in run.G.state_dict().items():
        assert torch.equal(v, g_params[k])
    aux = run.models[AUX]
    for k, v in aux.state_dict().items():
        assert torch.equal(v, d_params[k])
    aux_state = run.optimizers[AUX].state_dict()["state"]
    for i, st in d_opt_state_before["state"].items():
        assert torch.equal(aux_state[i]["exp_avg"], st["exp_avg"])
        assert torch.equal(aux_state[i]["exp_avg_sq"], st["exp_avg_sq"])
        assert float(aux_state[i]["step"]) == float(st["step"])
    assert run.optimizers[AUX].state_dict()["param_groups"][0]["lr"] == run.optimizers["D"].param_groups[0]["lr"]


def test_aux_d_sees_uniform_data_across_epochs(make_run):
    # 50 instances, batch 10: 5 aux-D batches per epoch; 60 phase-2 steps = 12 epochs of the uniform stream
    run = make_run(steps=70)
    m = _method()
    m.aux_seen = []
    run.start(m)
    main_seen = []
    for _ in range(70):
        real = run.train_step()
        if m.phase == 2 and run.step > 10:
            main_seen.append(real["index"].numpy())
    aux = np.concatenate(m.aux_seen)
    assert len(aux) == 600
    # every epoch of the aux stream is a permutation of the data: exact uniform counts, epoch after epoch
    for e in range(12):
        np.testing.assert_array_equal(np.sort(aux[50 * e : 50 * (e + 1)]), np.arange(50))
    # whereas the main stream follows the scores: its counts match P_s (chi-square), not the uniform law
    from scipy.stats import chisquare

    main_counts = np.bincount(np.concatenate(main_seen), minlength=50)
    n = main_counts.sum()
    assert m.probs.max() / m.probs.min() > 2  # the toy data's 5 far points get clearly larger scores
    assert chisquare(main_counts, n * m.probs).pvalue > 1e-3
    assert chisquare(main_counts, np.full(50, n / 50)).pvalue < 1e-3
    assert sum(1 for name, _ in run.optimized if name == AUX) == 60


def test_hinge_variant_records_raw_output_and_aux_is_ns(make_run):
    run = make_run(steps=12, loss="hinge")
    m = _method()
    run.start(m)
    for _ in range(10):
        run.train_step()
    assert m.phase == 2 and run.loss.name == "hinge"
    # the aux D's loss equals the NS (BCE) loss computed independently
    captured = {}
    orig = run.optimize

    def spy(name, loss):
        if name == AUX:
            captured["loss"] = float(loss)
            captured["aux"] = {k: v.clone() for k, v in run.models[AUX].state_dict().items()}
        orig(name, loss)

    run.optimize = spy
    torch.manual_seed(5)
    idx_before = run.streams["uniform"].position
    batch = run.dataset.get_batch(InfiniteSampler(50, seed=run.cfg.seed + 7919)._global(idx_before, 10))
    torch.manual_seed(5)
    z = torch.randn(10, 2)
    with torch.no_grad():
        fake = run.G(z)
    aux = run.models[AUX]
    with torch.no_grad():
        lr, lf = aux(batch["image"])["adv"], aux(fake)["adv"]
        ns = F.binary_cross_entropy_with_logits(lr, torch.ones(10)) + F.binary_cross_entropy_with_logits(
            lf, torch.zeros(10)
        )
    torch.manual_seed(5)
    m.after_d_step(run, None, None)
    assert captured["loss"] == pytest.approx(float(ns), rel=1e-5)
    # what phase 1 recorded is D's raw output (the hinge critic value), not a transformed one
    rec = make_run(steps=10, loss="hinge")
    m2 = _method()
    rec.start(m2)
    outs = {}
    for _ in range(9):
        rec.train_step()
        if rec.step in (4, 6, 8):
            with torch.no_grad(), module_mode(rec.D, train=False):
                outs[rec.step] = rec.D(rec.dataset.get_batch(np.arange(50))["image"])["adv"].numpy()
    got = m2.tracker.statistics(strict=False)
    want = np.stack([outs[t] for t in (4, 6, 8)]).astype(np.float64)
    np.testing.assert_allclose(got.ldrm, want.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.ldrv, want.var(0, ddof=1), rtol=1e-4, atol=1e-7)


def test_checkpoint_roundtrip_continues_phase2(make_run):
    run = make_run(steps=14)
    m = _method()
    run.start(m)
    for _ in range(12):
        run.train_step()
    state = m.state_dict()
    # a fresh method in a fresh run, state loaded before setup (as a resumed trainer would)
    run2 = make_run(steps=14)
    m2 = _method()
    m2.load_state_dict(state)
    run2.step = 12
    run2.start(m2)
    assert m2.phase == 2
    np.testing.assert_allclose(run2.streams["main"].probabilities, m.probs)
    run2.train_step()
    assert run2.step == 13


def test_init_from_phase1_checkpoint_enters_phase2(make_run):
    run = make_run(steps=10)
    m = _method()
    run.start(m)
    for _ in range(8):
        run.train_step()
    state = m.state_dict()  # phase 1, with the 3 records of steps 4, 6, 8
    run2 = make_run(steps=14)
    m2 = _method()
    run2.start(m2)
    m2.load_state_dict(state)
    run2.step = 10  # the phase-1 checkpoint's step
    run2.train_step()
    assert m2.phase == 2 and isinstance(run2.streams["main"], WeightedSampler)
    np.testing.assert_array_equal(m2.scores.steps, [4, 6, 8])


def test_bad_input(make_run):
    with pytest.raises(ConfigError, match="k must be"):
        _method(k=-1.0)
    with pytest.raises(ConfigError, match="phase 1"):
        _method(phase1_steps=0)
    with pytest.raises(ConfigError, match="eval_subset"):
        _method(eval_subset=10)
    # phase-2 steps without phase-1 records (e.g. a run started at the phase change from a state without records)
    run = make_run(steps=14)
    m = _method()
    run.start(m)
    run.step = 10
    with pytest.raises(ConfigError, match="phase 1"):
        run.train_step()
    # window larger than the records available at the phase change
    run = make_run(steps=14)
    m = _method(window=5, record_from=6)
    run.start(m)
    with pytest.raises(ConfigError, match="only 2 LDR records"):
        for _ in range(10):
            run.train_step()
    # ... and the documented fallback
    run = make_run(steps=14)
    m = _method(window=5, record_from=6, strict_window=False)
    run.start(m)
    for _ in range(10):
        run.train_step()
    np.testing.assert_array_equal(m.scores.steps, [6, 8])


def test_vanilla_with_recording_and_subset(make_run):
    run = make_run(steps=10)
    m = DiaGAN(DiaGANOptions(phase1_steps=None, window=3, record_every=2, eval_subset=20))
    run.start(m)
    for _ in range(10):
        run.train_step()
    assert m.phase == 1 and AUX not in run.models
    st = m.tracker.statistics()
    np.testing.assert_array_equal(st.steps, [6, 8, 10])
    assert len(st.ldrm) == 20 and len(np.unique(m.record_indices)) == 20
    score = discrepancy_score(st.ldrm, st.ldrv, 1.0)
    assert clip_scores(score).shape == (20,)


def test_train_mode_recording_uses_the_training_batch(make_run):
    # issue 11 defect 6: recording with D in train mode runs at the training loader's batch, in shuffled batches
    run = make_run(steps=4, batch_size=8)
    m = _method(phase1_steps=None, window=2, record_every=1, eval_mode=False)
    run.start(m)
    seen = []
    forward = run.D.forward

    def spy(x, y=None, feat=None):
        if not torch.is_grad_enabled():
            seen.append(x.shape[0])
        return forward(x, y, feat)

    run.D.forward = spy
    m.record(run)
    assert seen == [8] * 6 + [2]  # 50 instances in batches of 8, as training
    assert m.options.recording_batch(64) == 64
    with pytest.raises(ConfigError, match="train mode"):
        m2 = _method(eval_mode=False, eval_batch_size=1024)
        m2.validate(make_run(batch_size=8))
    assert _method(eval_mode=True).options.recording_batch(64) == 1024  # eval mode: no batch dependence


def test_recording_under_autocast_is_fp32(make_run):
    run = make_run(steps=4)
    m = _method(phase1_steps=None, window=2, record_every=1)
    run.start(m)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = m.record(run)
    with torch.no_grad(), module_mode(run.D, train=False):
        want = run.D(run.dataset.get_batch(np.arange(50))["image"])["adv"].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


class _ImgG(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.z_dim, self.num_classes, self.feat_dim = 2, 0, 0
        self.lin = torch.nn.Linear(2, 16)

    def forward(self, z, y=None, feat=None):
        return torch.tanh(self.lin(z)).view(-1, 1, 4, 4)


class _RotD(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(16, 8)
        self.adv, self.rot = torch.nn.Linear(8, 1), torch.nn.Linear(8, 4)

    def forward(self, x, y=None, feat=None):
        h = torch.relu(self.body(x.flatten(1)))
        return {"adv": self.adv(h)[:, 0], "rot": self.rot(h)}


def test_ssgan_aux_d_has_the_rotation_loss(make_run):
    from ganlab.diagan.method import rotate_quarters

    class Images:
        images = torch.rand(40, 1, 4, 4, generator=torch.Generator().manual_seed(0)) * 2 - 1
        labels, groups, num_classes, shape = np.zeros(40, dtype=np.int64), None, 0, (1, 4, 4)

        def __len__(self):
            return 40

        def get_batch(self, idx):
            return {"index": torch.as_tensor(np.asarray(idx)), "image": self.images[np.asarray(idx)]}

    run = make_run(steps=12, dataset=Images())
    torch.manual_seed(0)
    run.models = {"G": _ImgG(), "D": _RotD()}
    run.optimizers = {n: torch.optim.Adam(v.parameters(), lr=1e-3) for n, v in run.models.items()}
    m = _method(ss_d_scale=1.0, ss_g_scale=0.2)
    run.start(m)
    for _ in range(10):
        run.train_step()
    assert m.phase == 2
    captured = {}
    orig = run.optimize
    run.optimize = lambda name, loss: captured.setdefault(name, float(loss)) if name == AUX else orig(name, loss)
    pos = run.streams["uniform"].position
    batch = run.dataset.get_batch(InfiniteSampler(40, seed=run.cfg.seed + 7919)._global(pos, 10))
    torch.manual_seed(5)
    with torch.no_grad():
        fake = run.G(torch.randn(10, 2))
        aux = run.models[AUX]
        lr, lf = aux(batch["image"])["adv"], aux(fake)["adv"]
        rot_x, rot_y = rotate_quarters(batch["image"])
        want = (
            F.binary_cross_entropy_with_logits(lr, torch.ones(10))
            + F.binary_cross_entropy_with_logits(lf, torch.zeros(10))
            + 1.0 * F.cross_entropy(aux(rot_x)["rot"], rot_y)
        )
    torch.manual_seed(5)
    m.after_d_step(run, None, None)
    assert captured[AUX] == pytest.approx(float(want), rel=1e-5)
