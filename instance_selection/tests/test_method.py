"""Training draws real data only from the kept instances; the dataset (and so evaluation) stays the full one."""

from __future__ import annotations

import numpy as np
import pytest

from ganlab.core.config import from_dict
from ganlab.core.errors import CheckpointError, ConfigError, DatasetError
from ganlab.core.train import ExperimentConfig, Trainer
from ganlab.instance_selection.api import SelectionConfig, select_instances
from ganlab.instance_selection.evaluate import check_reference, reference_dataset
from ganlab.instance_selection.methods import InstanceSelection


def _cfg(tmp_path, **method):
    return from_dict(
        ExperimentConfig,
        {
            "name": "t",
            "out_dir": str(tmp_path),
            "data": {"name": "digits", "resolution": 32},
            "model": {
                "backbone": "dcgan",
                "options": {"resolution": 32, "channels": 1, "num_classes": 10, "z_dim": 8, "ngf": 4, "ndf": 4},
            },
            "train": {
                "steps": 2,
                "batch_size": 8,
                "log_every": 1,
                "sample_every": 0,
                "checkpoint_every": 0,
                "sample_grid": 4,
                "progress": False,
            },
            "method": method or {"name": "vanilla"},
        },
    )


class _Recording(InstanceSelection):
    seen: list

    def next_real(self, run):
        batch = super().next_real(run)
        self.seen.append(batch["index"].cpu().numpy())
        return batch


def test_training_sees_only_kept_instances(tmp_path, digits):
    sel = select_instances(digits, SelectionConfig(scorer="uniform", retention_ratio=20))
    method = _Recording(selection=sel)
    method.seen = []
    trainer = Trainer(_cfg(tmp_path), method, run_dir=tmp_path / "run", dataset=digits)
    trainer.fit()
    seen = np.concatenate(method.seen)
    assert len(seen) > 0 and np.isin(seen, sel.indices).all()
    assert np.isin(trainer.sampler_of("main").next_indices(500), sel.indices).all()
    assert len(trainer.dataset) == len(digits)  # the full dataset: evaluation references stay unselected


def test_method_from_config_with_index_file(tmp_path, digits):
    path = tmp_path / "idx.npz"
    sel = select_instances(digits, SelectionConfig(scorer="uniform", retention_ratio=50), index_file=path)
    cfg = _cfg(tmp_path, name="instance_selection", options={"index_file": str(path)})
    trainer = Trainer(cfg, run_dir=tmp_path / "run2")
    assert isinstance(trainer.method, InstanceSelection)
    np.testing.assert_array_equal(trainer.method.selection.indices, sel.indices)
    # a checkpoint made on another selection is refused
    with pytest.raises(CheckpointError):
        trainer.method.load_state_dict({"dataset_fingerprint": "x", "settings_fingerprint": "y"})


def test_method_needs_a_selection_and_the_right_dataset(tmp_path, digits):
    with pytest.raises(ConfigError, match="index_file"):
        Trainer(_cfg(tmp_path, name="instance_selection", options={}), run_dir=tmp_path / "r3")
    from ganlab.core.data import get_dataset

    other = get_dataset("digits", resolution=16)
    sel = select_instances(other, SelectionConfig(scorer="uniform"))
    with pytest.raises(DatasetError):
        Trainer(_cfg(tmp_path), InstanceSelection(selection=sel), run_dir=tmp_path / "r4", dataset=digits)


def test_evaluation_reference_is_the_full_dataset(tmp_path, digits):
    from ganlab.core.data import subset

    cfg = _cfg(tmp_path)
    ref = reference_dataset(cfg.data)
    assert ref.fingerprint == digits.fingerprint and len(ref) == len(digits)
    check_reference(ref)
    with pytest.raises(ConfigError, match="unselected"):
        check_reference(subset(digits, np.arange(10)))
    check_reference(subset(digits, np.arange(10)), allow_subset_reference=True)


def test_evaluate_generator_against_full_data(digits):
    import torch

    from ganlab.core.data import subset
    from ganlab.core.features import extract_features, get_extractor
    from ganlab.core.metrics.fid import fid_from_features
    from ganlab.core.nn import build_backbone
    from ganlab.instance_selection.evaluate import evaluate_generator, fake_source

    torch.manual_seed(0)
    G, _ = build_backbone("dcgan", resolution=32, channels=1, num_classes=10, z_dim=8, ngf=4, ndf=4)
    ext = get_extractor("random:lenet")
    out = evaluate_generator(G, digits, ext, n_fake=64, num_classes=10, z_dim=8, n_prdc=64, batch_size=32)
    assert set(out) == {"fid", "precision", "recall", "density", "coverage"}
    assert G.training  # evaluation restores the mode it found
    real = extract_features(ext, digits, batch_size=256, progress=False)
    fake = extract_features(
        ext, fake_source(G.eval(), num_classes=10, z_dim=8, device="cpu", seed=0), n=64, batch_size=32, progress=False
    )
    assert out["fid"] == pytest.approx(fid_from_features(real, fake), rel=1e-6)
    with pytest.raises(ConfigError):
        evaluate_generator(G, subset(digits, np.arange(100)), ext, n_fake=64, num_classes=10, z_dim=8)
    # truncation z = t * N(0, I): t -> 0 collapses every sample of a class onto one image
    fn = fake_source(G.eval(), num_classes=10, z_dim=8, device="cpu", psi=1e-6, labels=3)
    x = fn(5)
    assert torch.allclose(x, x[:1].expand_as(x), atol=1e-4)
    with pytest.raises(ConfigError):
        fake_source(G, num_classes=10, z_dim=8, device="cpu", truncation_mode="bogus")
