"""The icgan method on the core trainer: D's real half sees a neighbour's image with the instance's features,
G's conditioning is its own; exact resume; subset views; every bad input gives one clear error before any work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab.core.errors import ConfigError, GanlabError, ShapeError
from ganlab.core.train.trainer import Trainer
from ganlab.icgan.features import FeatureMismatchError, InstanceFeatures
from ganlab.icgan.method import ICGAN, ICGANOptions
from ganlab.icgan.neighbours import compute_neighbourhoods


def _method(ds, k=5, **opts):
    rng = np.random.default_rng(0)
    raw = np.abs(rng.normal(size=(len(ds), 84))).astype(np.float32)
    feats = InstanceFeatures.from_arrays(raw, raw[:, ::-1].copy(), dataset=ds)
    return ICGAN(ICGANOptions(k=k, **opts), features=feats, neighbourhoods=compute_neighbourhoods(feats, k))


def test_real_and_fake_batches_carry_the_right_conditionings(tiny, tmp_path, small_digits):
    m = _method(small_digits, hflip=False, feature_augmentation=False)
    t = Trainer(tiny.config(tmp_path), method=m, dataset=small_digits)
    real = m.next_real(t)
    inst, idx = real["instance"].numpy(), real["index"].numpy()
    nns = m.neighbourhoods.indices
    assert all(idx[i] in nns[inst[i]] for i in range(len(idx)))  # the image is a neighbour of the instance
    assert not (idx == inst).any()
    torch.testing.assert_close(real["cond"], m.features.get(inst))
    torch.testing.assert_close(real["image"], small_digits.get_batch(idx)["image"])
    fake = m.sample_fake(t, 8, real)
    torch.testing.assert_close(fake["cond"], m.features.get(fake["instance"].numpy()))
    assert fake["image"].shape == (8, 1, 32, 32)
    loss, logs = m.d_loss(t, real, fake)
    assert torch.isfinite(loss) and {"d_loss_real", "d_loss_fake"} <= set(logs)


def test_one_d_pass_equals_two_separate_passes_in_eval_mode(tiny, tmp_path, small_digits):
    m = _method(small_digits)
    t = Trainer(tiny.config(tmp_path), method=m, dataset=small_digits)
    t.D.eval()  # no SN power iteration: the joint pass must give the same logits as two passes
    real, fake = m.next_real(t), m.sample_fake(t, 8)
    joint, _ = m.d_loss(t, real, fake)
    m.options.split_d = True
    split, _ = m.d_loss(t, real, fake)
    torch.testing.assert_close(joint, split)


def test_training_resumes_exactly_and_exports_scores(tiny, tmp_path, small_digits):
    cfg = tiny.config(tmp_path, steps=4, method_options={"k": 5})
    cfg.train.checkpoint_every = 2
    cfg.train.sample_every = 4
    full = Trainer(cfg, dataset=small_digits, run_dir=tmp_path / "full")
    full.fit()
    half = Trainer(cfg, dataset=small_digits, run_dir=tmp_path / "half")
    half.fit(stop_at=2)
    resumed = Trainer(cfg, dataset=small_digits, run_dir=tmp_path / "half", resume=True)
    assert resumed.step == 2
    resumed.fit()
    for a, b in zip(full.unwrap(full.G).state_dict().values(), resumed.unwrap(resumed.G).state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    scores = full.method.instance_scores(full)
    assert set(scores) == {"neighbourhood_radius", "neighbour_in_degree"}
    assert all(v.shape == (len(small_digits),) for v in scores.values())
    assert (tmp_path / "full" / "icgan" / "run.json").is_file()
    assert list((tmp_path / "full" / "samples").glob("*.png"))  # grid from grid_features


def test_subset_views_get_neighbourhoods_within_the_subset(tiny, tmp_path, digits):
    from ganlab.core.data import subset

    view = subset(digits, np.arange(100, 400))
    t = Trainer(tiny.config(tmp_path, steps=1), dataset=view)
    t.fit()
    nb = t.method.neighbourhoods
    assert nb.indices.shape == (300, 5) and nb.indices.max() < 300


def test_class_conditional_icgan_takes_neighbour_labels(tiny, tmp_path, small_digits):
    cfg = tiny.config(tmp_path, model=tiny.model(num_classes=10))
    m = _method(small_digits)
    t = Trainer(cfg, method=m, dataset=small_digits)
    assert m.class_conditional
    fake = m.sample_fake(t, 64)
    lab, inst = fake["label"].numpy(), fake["instance"].numpy()
    nb_labels = small_digits.labels[m.neighbourhoods.indices[inst]]
    assert all(lab[i] in nb_labels[i] for i in range(64))
    t.fit()


@pytest.mark.parametrize(
    ("case", "error", "match"),
    [
        ("k_too_large", ShapeError, "k=300"),
        ("cc_unlabelled", ShapeError, "unlabelled dataset"),  # core's contract check, before the method
        ("wrong_dim", ShapeError, "feat_dim"),
        ("foreign_neighbours", FeatureMismatchError, "features"),
        ("not_instance_conditioned", ConfigError, "feat_dim"),
        ("eval_metrics", ConfigError, "evaluate"),
    ],
)
def test_bad_input_gives_one_clear_error_and_no_files(tiny, tmp_path, small_digits, case, error, match):
    from ganlab.core.data import TensorDataset

    ds, model, opts, method, kw = small_digits, None, {}, None, {}
    if case == "k_too_large":
        opts = {"k": 300}
    elif case == "cc_unlabelled":
        x = small_digits.get_batch(np.arange(300))["image"]
        ds = TensorDataset("nolabels", x, np.zeros(300, np.int64), num_classes=0, identity={"n": "nolabels"})
        model = tiny.model(num_classes=10)
    elif case == "wrong_dim":
        model = tiny.model(feat_dim=2048)
    elif case == "foreign_neighbours":
        m = _method(small_digits)
        other = InstanceFeatures.from_arrays(np.ones((300, 84)) + np.eye(300, 84), dataset=small_digits)
        method = ICGAN(ICGANOptions(k=5), features=other, neighbourhoods=m.neighbourhoods)
    elif case == "not_instance_conditioned":
        model = tiny.model(feat_dim=0)
    elif case == "eval_metrics":
        kw = {"eval": {"metrics": ["fid"]}}
    cfg = tiny.config(tmp_path, model=model, method_options=opts, **kw)
    with pytest.raises(error, match=match):
        Trainer(cfg, method=method, dataset=ds, run_dir=tmp_path / "run")
    assert not list((tmp_path / "run").rglob("*.npy")) and not list((tmp_path / "run").rglob("*.npz"))
    assert issubclass(error, GanlabError)
