"""Eq. 4 thresholds (per class, global, unlabelled) and index files tied to one dataset."""

from __future__ import annotations

import numpy as np
import pytest

from ganlab.core.errors import ConfigError, DatasetError
from ganlab.instance_selection.selection import Selection, kept_per_class, select


def test_per_class_keeps_the_top_of_every_class():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), [100, 50, 200, 10])
    scores = rng.normal(size=len(labels)) + labels * 10.0  # classes live on different scales
    kept = select(scores, labels, 40)
    counts = kept_per_class(kept, labels)
    for c, (k, total) in counts.items():
        cls_scores = scores[labels == c]
        cutoff = np.percentile(cls_scores, 60)
        assert k == int(np.sum(cls_scores > cutoff))  # strict >: a little under 40% where ties fall
        assert k == pytest.approx(0.4 * total, abs=1)
        # the kept ones are exactly the top-k of the class
        top = np.flatnonzero(labels == c)[np.argsort(cls_scores)[::-1][:k]]
        assert set(top) == set(kept[labels[kept] == c])


def test_global_threshold_ignores_classes():
    labels = np.repeat([0, 1], 50)
    scores = np.concatenate([np.arange(50.0), np.arange(50.0) + 100])
    kept = select(scores, labels, 50, per_class=False)
    assert (labels[kept] == 1).all() and len(kept) == 50  # psi = the median, 74.5
    np.testing.assert_array_equal(select(scores, None, 50), kept)
    per_class = select(scores, labels, 50)
    assert kept_per_class(per_class, labels) == {0: (25, 50), 1: (25, 50)}


def test_unlabelled_is_one_class():
    scores = np.random.default_rng(1).normal(size=1000)
    kept = select(scores, None, 30)
    assert len(kept) == int(np.sum(scores > np.percentile(scores, 70)))
    np.testing.assert_array_equal(kept, select(scores, np.zeros(1000, dtype=int), 30))
    assert kept_per_class(kept, None, 1000) == {0: (len(kept), 1000)}


def test_full_retention_keeps_everything():
    scores = np.arange(10.0)
    np.testing.assert_array_equal(select(scores, None, 100), np.arange(10))


@pytest.mark.parametrize("rr", [0, -5, 100.5, 250, "half", None])
def test_retention_ratio_out_of_range(rr):
    with pytest.raises(ConfigError, match="retention_ratio"):
        select(np.arange(10.0), None, rr)


class _Data:
    def __init__(self, n: int, fingerprint: str) -> None:
        self.n, self.fingerprint = n, fingerprint

    def __len__(self) -> int:
        return self.n


def test_index_file_roundtrip_and_refusal(tmp_path):
    scores = np.random.default_rng(2).normal(size=30)
    sel = Selection(
        indices=select(scores, None, 50),
        dataset_fingerprint="abc",
        dataset_size=30,
        settings={"scorer": "gaussian", "retention_ratio": 50.0},
        scores=scores,
        kept_per_class={0: (14, 30)},
    )
    path = sel.save(tmp_path / "idx.npz")
    back = Selection.load(path, dataset=_Data(30, "abc"))
    np.testing.assert_array_equal(back.indices, sel.indices)
    np.testing.assert_allclose(back.scores, scores)
    assert back.settings == sel.settings and back.settings_fingerprint == sel.settings_fingerprint
    assert back.kept_per_class == {0: (14, 30)}
    with pytest.raises(DatasetError, match="not for dataset"):
        Selection.load(path, dataset=_Data(30, "other"))
    with pytest.raises(DatasetError):
        Selection.load(path, dataset=_Data(31, "abc"))
    with pytest.raises(DatasetError, match="not found"):
        Selection.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(DatasetError):
        Selection.load(tmp_path / "junk.npz")
