"""End-to-end selection on a real dataset: per-class counts, the uniform baseline, index-file reuse and refusal."""

from __future__ import annotations

import numpy as np
import pytest

from ganlab.core.errors import ConfigError, DatasetError, RegistryError
from ganlab.instance_selection.api import SelectionConfig, embed_dataset, select_instances
from ganlab.instance_selection.scoring import score_instances
from ganlab.instance_selection.selection import Selection, select


@pytest.fixture(scope="module")
def feats(digits):
    return embed_dataset(digits, "random:lenet", progress=False)


def test_select_instances_matches_the_parts(digits, feats):
    sel = select_instances(digits, SelectionConfig(embedding="random:lenet", retention_ratio=30), features=feats)
    scores = score_instances(feats, digits.labels, "gaussian")
    np.testing.assert_allclose(sel.scores, scores)
    np.testing.assert_array_equal(sel.indices, select(scores, digits.labels, 30))
    counts = np.bincount(digits.labels)
    for c, (kept, total) in sel.kept_per_class.items():
        assert total == counts[c] and abs(kept - 0.3 * total) <= 1
    # embedding inside equals the precomputed features
    again = select_instances(digits, SelectionConfig(embedding="random:lenet", retention_ratio=30))
    np.testing.assert_array_equal(again.indices, sel.indices)


def test_global_mode_fits_one_model(digits, feats):
    sel = select_instances(digits, SelectionConfig(scorer="gaussian", per_class=False), features=feats)
    np.testing.assert_allclose(sel.scores, score_instances(feats, None, "gaussian"))
    assert len(sel) == int(np.sum(sel.scores > np.percentile(sel.scores, 50)))


def test_uniform_baseline_is_random_and_balanced(digits):
    a = select_instances(digits, SelectionConfig(scorer="uniform", retention_ratio=50, seed=1))
    b = select_instances(digits, SelectionConfig(scorer="uniform", retention_ratio=50, seed=2))
    assert len(a) == len(b) and not np.array_equal(a.indices, b.indices)
    assert all(abs(k - t / 2) <= 1 for k, t in a.kept_per_class.values())


def test_index_file_reused_and_refused_for_another_dataset(tmp_path, digits, feats):
    from ganlab.core.data import get_dataset

    path = tmp_path / "idx.npz"
    cfg = SelectionConfig(embedding="random:lenet", scorer="knn", retention_ratio=40)
    sel = select_instances(digits, cfg, features=feats, index_file=path)
    assert path.is_file()
    # same dataset and settings: the file is reused (the features are not even looked at)
    reused = select_instances(digits, cfg, features=feats[:10], index_file=path)
    np.testing.assert_array_equal(reused.indices, sel.indices)
    other = get_dataset("digits", resolution=16)
    with pytest.raises(DatasetError, match="not for dataset"):
        Selection.load(path, dataset=other)


def test_bad_configs(digits, feats):
    with pytest.raises(ConfigError):
        select_instances(digits, SelectionConfig(retention_ratio=0), features=feats)
    with pytest.raises(ConfigError):
        select_instances(digits, SelectionConfig(retention_ratio=101), features=feats)
    with pytest.raises(RegistryError, match="gaussian"):
        select_instances(digits, SelectionConfig(scorer="gausian"), features=feats)
    with pytest.raises(RegistryError):
        select_instances(digits, SelectionConfig(embedding="no_such_net"))
    with pytest.raises(ConfigError, match="feature rows"):
        select_instances(digits, SelectionConfig(), features=feats[:5])
