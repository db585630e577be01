"""The public Python API of ganlab.icgan: every step of the paper as a plain function or class.

>>> feats = extract_instance_features(dataset, "swav", "runs/feats")           # h_i (and flipped) on disk
>>> nbrs = compute_neighbourhoods(feats, k=50); nbrs.save("runs/nbrs.npz")       # A_i, self excluded
>>> trainer = Trainer(cfg, method=ICGAN(options, features=feats, neighbourhoods=nbrs)); trainer.fit()
>>> stored = select_instances(feats, 1000)                                       # k-means stored instances
>>> images = generate(trainer.G_ema, stored, 64)["image"]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganlab.core.errors import CheckpointError
from ganlab.icgan.features import InstanceFeatures, extract_instance_features
from ganlab.icgan.generate import Sampler, generate
from ganlab.icgan.instances import StoredInstances, select_instances
from ganlab.icgan.method import ICGAN, ICGANOptions, instance_scores
from ganlab.icgan.neighbours import Neighbourhoods, compute_neighbourhoods

__all__ = [
    "ICGAN",
    "ICGANOptions",
    "InstanceFeatures",
    "Neighbourhoods",
    "RunArtifacts",
    "Sampler",
    "StoredInstances",
    "compute_neighbourhoods",
    "extract_instance_features",
    "generate",
    "instance_scores",
    "load_run",
    "select_instances",
]


@dataclass
class RunArtifacts:
    """What sampling and evaluation need from a trained IC-GAN run."""

    G: torch.nn.Module
    cfg: Any
    features: InstanceFeatures
    neighbourhoods: Neighbourhoods
    class_conditional: bool
    run_dir: Path
    step: int

    def dataset(self) -> Any:
        from ganlab.core.data import get_dataset

        d = self.cfg.data
        return get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)


def load_run(run_dir: str | Path, device: Any = "cpu", checkpoint: str | Path | None = None) -> RunArtifacts:
    """G_ema of a run's latest checkpoint (or ``checkpoint``), with the run's features and neighbourhoods."""
    import ganlab.icgan.methods  # noqa: F401  (presets)
    from ganlab.core.train.checkpoint import latest_checkpoint, load_models

    run_dir = Path(run_dir)
    manifest = run_dir / "icgan" / "run.json"
    if not manifest.is_file():
        raise CheckpointError(
            f"{run_dir} is not an IC-GAN run directory (no icgan/run.json); train with `ganlab icgan train`"
        )
    info = json.loads(manifest.read_text())
    ckpt = latest_checkpoint(checkpoint or run_dir)
    G, _, cfg, state = load_models(ckpt, device=device, ema=True, critic="none")
    feats = InstanceFeatures.load(info["features"])
    nbrs = Neighbourhoods.load(info["neighbours"], feats)
    return RunArtifacts(G, cfg, feats, nbrs, bool(info["class_conditional"]), run_dir, int(state["step"]))
