"""IC-GAN on StyleGAN2: the instance feature enters G at the mapping input and D by projection (core's conditioning
interface); a 32-px instance-conditioned StyleGAN2 trains through the ``icgan`` method and through
``icgan_stylegan2`` (IC-GAN's data side with StyleGAN2's recipe), which also resumes exactly."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from ganlab.core.errors import ConfigError
from ganlab.core.nn.stylegan2 import StyleGAN2Discriminator, StyleGAN2Generator
from ganlab.core.train.trainer import Trainer
from ganlab.icgan.features import InstanceFeatures
from ganlab.icgan.neighbours import compute_neighbourhoods
from ganlab.icgan.stylegan2 import ICGANStyleGAN2, ICGANStyleGAN2Options

SG2 = {"resolution": 32, "channels": 1, "z_dim": 16, "w_dim": 16, "mapping_layers": 2, "channel_base": 128}
SG2 = {**SG2, "channel_max": 16, "d_mapping_layers": 2, "feat_dim": 84}
RECIPE = {"r1_gamma": 1.0, "r1_interval": 2, "pl_interval": 2, "ema_kimg": 0.1, "ema_rampup": 0.05}


def _features(ds):
    rng = np.random.default_rng(0)
    raw = np.abs(rng.normal(size=(len(ds), 84))).astype(np.float32)
    feats = InstanceFeatures.from_arrays(raw, raw[:, ::-1].copy(), dataset=ds)
    return feats, compute_neighbourhoods(feats, 5)


def _config(tiny, tmp_path, method: str, options: dict, steps: int = 3, num_classes: int = 0):
    cfg = tiny.config(
        tmp_path,
        steps=steps,
        model={"backbone": "stylegan2", "options": {**SG2, "num_classes": num_classes}},
        method_options=options,
    )
    cfg.method.name = method
    cfg.loss.name = "ns"
    cfg.ema.enabled = True
    cfg.ema.start = 0
    cfg.optim.betas = (0.0, 0.99)
    cfg.optim.g_lr = cfg.optim.d_lr = 2.5e-3
    return cfg


def test_the_instance_feature_conditions_g_at_the_mapping_input_and_d_by_projection():
    from ganlab.core.nn.stylegan2 import StyleGAN2Config

    torch.manual_seed(0)
    cfg = StyleGAN2Config(**{**SG2, "num_classes": 3})
    G, D = StyleGAN2Generator(cfg), StyleGAN2Discriminator(cfg)
    z, y, h = torch.randn(2, 16), torch.tensor([0, 2]), torch.randn(2, 84)
    # mapping input: [normalised z, normalised (class embedding, feature embedding)] (StyleGAN2-ADA's layout)
    m = G.mapping
    emb = torch.cat([m.embed(torch.nn.functional.one_hot(y, 3).float()), m.embed_feat(h)], 1)
    x = torch.cat(
        [
            z / z.square().mean(1, keepdim=True).add(1e-8).sqrt(),
            emb / emb.square().mean(1, keepdim=True).add(1e-8).sqrt(),
        ],
        1,
    )
    for layer in m.layers:
        x = layer(x)
    G.eval()
    torch.testing.assert_close(G.mapping(z, y, h), x)
    assert m.layers[0].weight.shape[1] == 16 + 16 + 16  # z + class embedding + feature embedding (w_dim each)
    # D: <out(x), cmap(y, h)> / sqrt(cmap_dim); a different feature changes the logit, the image features do not
    img = torch.randn(2, 1, 32, 32)
    out = D(img, y, h)
    feats = D.blocks[0](img)
    for block in D.blocks[1:]:
        feats = block(feats)
    phi = D.out(D.fc(D.conv(D.mbstd(feats)).flatten(1)))
    cmap = D.mapping(None, y, h)
    torch.testing.assert_close(out["adv"], (phi * cmap).sum(1) / math.sqrt(D.cmap_dim))
    assert not torch.allclose(D(img, y, h + 1.0)["adv"], out["adv"])
    with pytest.raises(Exception, match=r"feat must have shape \(2, 84\)"):
        G(z, y, torch.randn(2, 83))


def test_a_32px_instance_conditioned_stylegan2_trains_through_the_icgan_method(tiny, tmp_path, small_digits):
    cfg = _config(tiny, tmp_path, "icgan", {"k": 5, "diffaugment": "translation"})
    feats, nbs = _features(small_digits)
    from ganlab.icgan.method import ICGAN, ICGANOptions

    method = ICGAN(ICGANOptions(k=5, diffaugment="translation"), features=feats, neighbourhoods=nbs)
    t = Trainer(cfg, method=method, dataset=small_digits, run_dir=tmp_path / "run")
    G = t.unwrap(t.G)
    assert isinstance(G, StyleGAN2Generator) and G.feat_dim == 84
    before = [p.detach().clone() for p in G.parameters()]
    embed_before = G.mapping.embed_feat.weight.detach().clone()
    out = t.fit()
    assert out["step"] == 3
    assert all(torch.isfinite(p).all() for p in G.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))
    assert not torch.equal(embed_before, G.mapping.embed_feat.weight)  # the feature embedding is trained too


def test_icgan_stylegan2_runs_the_recipe_on_icgan_conditionings_and_resumes_exactly(tiny, tmp_path, small_digits):
    options = {**RECIPE, "k": 5, "augment": "diffaugment", "diffaugment": "translation,cutout"}
    cfg = _config(tiny, tmp_path, "icgan_stylegan2", options, steps=4)
    feats, nbs = _features(small_digits)
    build = lambda: ICGANStyleGAN2(ICGANStyleGAN2Options(**options), features=feats, neighbourhoods=nbs)
    probe = Trainer(cfg, method=build(), dataset=small_digits, run_dir=tmp_path / "probe")
    draws = copy.deepcopy(probe.method.draws)
    y, feat = probe.method.conditions(probe, 4)
    expected = draws.fake(4)  # G is conditioned on IC-GAN's own draws (instance, flipped-feature choice)
    assert y is None and torch.equal(feat, feats.get(expected.instance_idx, expected.feat_flip))
    full = Trainer(cfg, method=build(), dataset=small_digits, run_dir=tmp_path / "full")
    full.fit()
    m = full.method
    assert m.d_steps == 4 and m.r1_steps == 2 and m.pl_steps == 2
    assert full.optimizers["D"].param_groups[0]["lazy_reg_c"] == 2 / 3  # StyleGAN2's Adam correction
    half = Trainer(cfg, method=build(), dataset=small_digits, run_dir=tmp_path / "half")
    half.fit(stop_at=1)
    resumed = Trainer(cfg, method=build(), dataset=small_digits, run_dir=tmp_path / "half", resume=True)
    resumed.fit()
    for name in ("G", "D"):
        a = full.unwrap(full.models[name]).state_dict()
        b = resumed.unwrap(resumed.models[name]).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    assert resumed.method.state_dict()["icgan"]["draws"] == m.state_dict()["icgan"]["draws"]
    with pytest.raises(ConfigError, match="unknown DiffAugment operation"):
        ICGANStyleGAN2Options(augment="diffaugment", diffaugment="zoom")
