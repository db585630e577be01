"""Instance features: streamed extraction equals the extractor on the (flipped) images, unit norms at load,
fingerprints, dataset checks, nothing half-written on failure, wrong dimension refused before extraction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab.core.errors import ConfigError, ShapeError
from ganlab.core.features import get_extractor
from ganlab.icgan.features import (
    FeatureMismatchError,
    InstanceFeatures,
    cached_instance_features,
    extract_instance_features,
    extractor_of,
)


def test_streamed_features_equal_the_extractor_on_images_and_flips(tmp_path, small_digits):
    ext = get_extractor("random:lenet")
    feats = extract_instance_features(small_digits, ext, tmp_path / "f", batch_size=64, progress=False, device="cpu")
    x = small_digits.get_batch(np.arange(len(small_digits)))["image"]
    with torch.no_grad():
        ref, ref_flip = ext(x).numpy(), ext(torch.flip(x, dims=[3])).numpy()
    np.testing.assert_allclose(np.asarray(feats.raw), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(feats.raw_flip), ref_flip, rtol=1e-5, atol=1e-6)
    idx = np.array([0, 5, 9])
    flip = np.array([False, True, False])
    got = feats.get(idx, flip).numpy()
    want = np.where(flip[:, None], ref_flip[idx], ref[idx])
    np.testing.assert_allclose(got, want / np.linalg.norm(want, axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-6)
    assert feats.meta["dataset_fingerprint"] == small_digits.fingerprint and feats.meta["extractor"] == "random:lenet"
    assert extractor_of(feats).name == "random:lenet"
    loaded = InstanceFeatures.load(tmp_path / "f")
    assert loaded.fingerprint == feats.fingerprint and isinstance(loaded.raw, np.memmap)
    with pytest.raises(ConfigError, match="exists"):
        extract_instance_features(small_digits, ext, tmp_path / "f", progress=False)


def test_fingerprint_follows_content_and_dataset_is_checked(small_digits, digits):
    a = InstanceFeatures.from_arrays(np.ones((300, 4)), dataset=small_digits)
    b = InstanceFeatures.from_arrays(np.ones((300, 4)) * 2, dataset=small_digits)
    assert a.fingerprint != b.fingerprint
    a.check_dataset(small_digits)
    with pytest.raises(FeatureMismatchError):
        a.check_dataset(digits)


def test_failed_extraction_leaves_nothing(tmp_path, small_digits):
    class Broken(torch.nn.Module):
        name, dim = "broken", 4
        calls = 0

        def forward(self, x):
            Broken.calls += 1
            if Broken.calls > 2:
                raise RuntimeError("disk full")
            return torch.zeros(x.shape[0], 4)

        def protocol(self):
            return {}

    with pytest.raises(RuntimeError):
        extract_instance_features(small_digits, Broken(), tmp_path / "out", batch_size=50, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_wrong_dimension_for_the_model_is_refused_before_extraction(tmp_path, small_digits):
    with pytest.raises(ShapeError, match="2048"):
        cached_instance_features(small_digits, "random:lenet", tmp_path, expected_dim=2048)
    assert list(tmp_path.iterdir()) == []
    f1 = cached_instance_features(small_digits, "random:lenet", tmp_path, expected_dim=84, progress=False)
    f2 = cached_instance_features(small_digits, "random:lenet", tmp_path, expected_dim=84, progress=False)
    assert f1.fingerprint == f2.fingerprint and len(list(tmp_path.iterdir())) == 1  # second call hits the cache
