import json

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.core.errors import CheckpointError, ConfigError, RegistryError, ShapeError, WeightsNotFoundError
from ganlab.core.features import (
    clean_resize,
    extract_features,
    get_extractor,
    list_extractors,
    quantize_uint8,
    resolve_weights,
    sha256_file,
)


def images(n, c=3, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, size, size, generator=g) * 2 - 1


@pytest.fixture(scope="module")
def inception75():
    # a randomly initialised torchvision Inception-v3 at its smallest input size (no download, fast on CPU)
    torch.set_num_threads(1)
    return get_extractor("random:inception", image_size=75)


def test_registry_names():
    assert {"inception", "inception_torchvision", "resnet50", "swav", "vgg16", "classifier", "random"} <= set(
        list_extractors()
    )
    with pytest.raises(RegistryError, match="did you mean 'inception'"):
        get_extractor("inceptoin")
    with pytest.raises(ConfigError, match="random:<arch>"):
        get_extractor("random:alexnet")


def test_random_inception_end_to_end_matches_direct_forward(inception75):
    x = images(7)
    feats = extract_features(inception75, x, batch_size=3, progress=False)
    assert feats.shape == (7, 2048) and feats.dtype == np.float32
    with torch.no_grad():
        direct = inception75(x).numpy()
    np.testing.assert_allclose(feats, direct, rtol=1e-4, atol=1e-5)
    # the batch size does not change the features (the last batch is padded, eval mode)
    np.testing.assert_allclose(extract_features(inception75, x, batch_size=7, progress=False), feats, atol=1e-5)


def test_random_inception_preprocessing_is_imagenet_norm_and_bilinear_align_corners(inception75):
    x = images(2)
    # transform_input=True maps ImageNet-normalised inputs back to [-1, 1]; so the net sees the upsampled image
    up = torch.nn.functional.interpolate(x, size=(75, 75), mode="bilinear", align_corners=True)
    net = inception75.net
    with torch.no_grad():
        ref = net._forward(up)  # bypass the input transform: it must be the exact inverse of the normalisation
    ref = ref[0] if isinstance(ref, tuple) else ref
    with torch.no_grad():
        got = inception75(x)
    # random BN-free activations are large (~1e6): compare relative to the largest feature
    scale = float(ref.abs().max())
    np.testing.assert_allclose(got.numpy() / scale, ref.numpy() / scale, atol=1e-5)


def test_seeds_make_random_extractors_reproducible():
    a = get_extractor("random:resnet20", seed=1)
    b = get_extractor("random:resnet20", seed=1)
    c = get_extractor("random:resnet20", seed=2)
    x = images(4)
    fa, fb, fc = (extract_features(e, x, progress=False) for e in (a, b, c))
    np.testing.assert_array_equal(fa, fb)
    assert not np.allclose(fa, fc)


def test_random_resnet50_end_to_end_grayscale_input():
    ext = get_extractor("random:resnet50", image_size=32)
    x = images(3, c=1)
    f = extract_features(ext, x, batch_size=2, progress=False)
    assert f.shape == (3, 2048)
    with torch.no_grad():
        np.testing.assert_allclose(f, ext(x.expand(-1, 3, -1, -1)).numpy(), rtol=1e-4, atol=1e-5)


def test_dataset_source_uses_get_batch_and_first_n_items():
    from ganlab.core.data import get_dataset

    ds = get_dataset("digits", resolution=32)
    ext = get_extractor("random:lenet")
    f = extract_features(ext, ds, n=50, batch_size=16, progress=False)
    ref = extract_features(ext, ds.get_batch(np.arange(50))["image"], batch_size=50, progress=False)
    np.testing.assert_allclose(f, ref, atol=1e-6)


def test_generator_source_is_streamed_and_quantised():
    ext = get_extractor("random:lenet")
    calls = []
    bank = images(10, c=1, seed=3)

    def gen(k):
        calls.append(k)
        start = sum(calls[:-1])
        return bank[start : start + k]

    f = extract_features(ext, gen, n=10, batch_size=4, progress=False)
    assert calls == [4, 4, 2]  # never more than one batch at a time
    with torch.no_grad():
        ref = ext(quantize_uint8(bank)).numpy()
    np.testing.assert_allclose(f, ref, atol=1e-5)
    # quantisation really rounds to 256 levels: u / 127.5 - 1 for an integer u
    q = quantize_uint8(bank)
    u = (q + 1) * 127.5
    np.testing.assert_allclose(u.numpy(), np.round(u.numpy()), atol=1e-4)
    with pytest.raises(ConfigError, match="n "):
        extract_features(ext, gen, progress=False)


@pytest.mark.parametrize(
    "bad,match",
    [
        (torch.rand(2, 1, 32, 32) * 255, r"\[-1, 1\].*\[0, 255\]"),
        (torch.rand(2, 1, 32, 32) + 0.5, r"\[-1, 1\]"),
        (torch.full((2, 1, 32, 32), float("nan")), "NaN"),
        (torch.zeros(2, 1, 32, 32, dtype=torch.uint8), "dtype"),
    ],
)
def test_images_out_of_range_raise_one_clear_error(bad, match):
    ext = get_extractor("random:lenet")
    with pytest.raises(ShapeError, match=match):
        extract_features(ext, bad, progress=False)


def test_cache_is_keyed_and_reused(tmp_path, monkeypatch):
    from ganlab.core.data import get_dataset

    ds = get_dataset("digits", resolution=32)
    ext = get_extractor("random:lenet", seed=0)
    f1 = extract_features(ext, ds, n=40, cache_dir=tmp_path, progress=False)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len([f for f in files if f.endswith(".npy")]) == 1 and not any(f.endswith(".tmp") for f in files)
    meta = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert meta["extractor"] == "random:lenet" and meta["n"] == 40

    def boom(*a, **k):
        raise AssertionError("the cached features should have been used")

    monkeypatch.setattr(type(ext), "embed", boom)
    np.testing.assert_array_equal(extract_features(ext, ds, n=40, cache_dir=tmp_path, progress=False), f1)
    monkeypatch.undo()
    # another extractor seed or another n is another key
    other = get_extractor("random:lenet", seed=1)
    f3 = extract_features(other, ds, n=40, cache_dir=tmp_path, progress=False)
    assert not np.allclose(f1, f3)
    extract_features(ext, ds, n=30, cache_dir=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.npy"))) == 3


@pytest.mark.parametrize("name", ["inception", "inception_torchvision", "resnet50", "swav", "vgg16"])
def test_missing_weights_offline_is_one_clear_error(name, tmp_path):
    with pytest.raises(WeightsNotFoundError, match="GANLAB_WEIGHTS_DIR") as info:
        get_extractor(name)
    msg = str(info.value)
    assert "not found" in msg and ("GANLAB_ALLOW_DOWNLOAD" in msg)


def test_missing_classifier_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="train-classifier"):
        get_extractor(f"classifier:{tmp_path / 'nope.pt'}")


def test_weights_resolution_order_and_sha256(tmp_path, monkeypatch):
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    monkeypatch.setenv("GANLAB_WEIGHTS_DIR", str(env_dir))
    (env_dir / "w.bin").write_bytes(b"env")
    explicit = tmp_path / "explicit"
    explicit.mkdir()
    (explicit / "w.bin").write_bytes(b"explicit")
    path, digest = resolve_weights("w.bin", path=explicit)
    assert path == explicit / "w.bin"
    import hashlib

    assert digest == hashlib.sha256(b"explicit").hexdigest() == sha256_file(path)
    assert resolve_weights("w.bin")[0] == env_dir / "w.bin"
    with pytest.raises(CheckpointError, match="sha256"):
        resolve_weights("w.bin", sha256="00000000")
    assert resolve_weights("w.bin", sha256=hashlib.sha256(b"env").hexdigest()[:8])[0] == env_dir / "w.bin"


def test_torchvision_weights_with_a_wrong_hash_are_refused(tmp_path, monkeypatch):
    wdir = tmp_path / "weights"
    torch.save({"x": torch.zeros(1)}, wdir / "vgg16-397923af.pth")
    with pytest.raises(CheckpointError, match="corrupt or a different version"):
        get_extractor("vgg16")


def test_clean_resize_matches_clean_fid_pil_resizer():
    from cleanfid.resize import make_resizer

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    ref = make_resizer("PIL", False, "bicubic", (299, 299))(img)  # clean-fid's own "clean" path, per channel
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float()
    got = clean_resize(x, 299)[0].permute(1, 2, 0).numpy()
    assert np.abs(got - ref).max() < 0.01


class _FakeLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 2048, 1)

    def forward(self, x):
        return self.proj(nn.functional.adaptive_avg_pool2d(x, 4)).mean(dim=(2, 3))


class _FakeInceptionScript(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = _FakeLayers()

    def forward(self, x, no_output_bias: bool = False):
        logits = self.layers((x - 128) / 128)[:, :1008]  # the full network takes [0, 255] images
        if not no_output_bias:
            logits = logits + 1.0
        return torch.softmax(logits, dim=1)


def test_clean_inception_loads_local_torchscript_and_applies_the_clean_protocol(tmp_path):
    torch.manual_seed(0)
    scripted = torch.jit.script(_FakeInceptionScript())
    wfile = tmp_path / "weights" / "inception-2015-12-05.pt"
    scripted.save(str(wfile))
    ext = get_extractor("inception")
    assert ext.weights_sha256 == sha256_file(wfile)
    assert ext.protocol()["resize"].startswith("clean")
    x = images(3, size=16)
    f = extract_features(ext, x, batch_size=2, progress=False)
    # by hand: [-1, 1] -> [0, 255] -> bicubic 299 -> clean-fid's (x - 128) / 128 -> layers
    with torch.no_grad():
        ref = scripted.layers((clean_resize((x + 1) * 127.5, 299) - 128) / 128).numpy()
    np.testing.assert_allclose(f, ref, rtol=1e-4, atol=1e-5)


def test_clean_inception_logprobs_for_the_inception_score(tmp_path):
    torch.manual_seed(0)
    scripted = torch.jit.script(_FakeInceptionScript())
    scripted.save(str(tmp_path / "weights" / "inception-2015-12-05.pt"))
    ext = get_extractor("inception", output="logprobs")
    assert ext.dim == 1008
    x = images(2, size=16)
    f = extract_features(ext, x, batch_size=2, progress=False)
    with torch.no_grad():  # StyleGAN2-ADA's IS: softmax without the output bias, on the 299 px clean-resized image
        ref = torch.log(scripted((clean_resize((x + 1) * 127.5, 299)), no_output_bias=True)).numpy()
    np.testing.assert_allclose(f, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.exp(f).sum(1), 1.0, rtol=1e-5)
