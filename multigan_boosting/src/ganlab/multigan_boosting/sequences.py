"""The filter net and the GAN sequences of one scale, trained once per seed and shared by every reproduction.

Under ``experiment.shared_dir`` (default ``OUT/multigan/<experiment.shared_name>/SCALE``): ``filter_seedS`` (the
classifier trained on the real split with the classifier protocol: the report's filter, Algorithm 1's phi and Table
1's baseline) and ``gans_seedS/<scheme>/gan_i`` (gan_0 is the base GAN of every scheme; ``baseline``: independent
seeds; a scheme: GAN i+1 trained on the real set re-weighted by Algorithm 1, :func:`~.boost.train_boosted`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganlab.core.results import RunDir
from ganlab.multigan_boosting.classify import ClassifyConfig, SourceConfig, Splits, load_splits, run_classify


class Shared:
    """The filter net and the GAN sequences of one scale. ``gan_config(seed)``: the core training config of the
    GANs (with the protocol's checkpoint rule); ``checkpoint``: which G of each run is used, ``last`` or ``best``."""

    def __init__(self, spec: Any, scale: str, run_dir: RunDir, gan_config: Callable[[int], Any]) -> None:
        self.spec, self.scale, self.gan_config = spec, scale, gan_config
        e = spec.experiment
        self.root = Path(e.shared_dir) if e.shared_dir else run_dir.path.parents[1] / e.shared_name / scale
        self.splits: Splits = load_splits(spec.data)
        self.checkpoint = "last" if spec.protocol.checkpoint.choice == "last" else "best"

    def classify_cfg(self, seed: int, source: SourceConfig | None = None, name: str = "classifier") -> ClassifyConfig:
        return ClassifyConfig(
            name=name, seed=seed, device=self.spec.device, data=self.spec.data, source=source or SourceConfig(),
            classifier=copy.deepcopy(self.spec.classifier),
        )  # fmt: skip

    def filter(self, seed: int) -> tuple[Any, dict[str, Any]]:
        """The real-data classifier (flip + crop augmentation): the report's filter, phi and baseline."""
        from ganlab.core.features.classifier import load_classifier

        out = self.root / f"filter_seed{seed}"
        if (out / "result.json").is_file() and (out / "classifier.pt").is_file():
            return load_classifier(out / "classifier.pt")[0], json.loads((out / "result.json").read_text())
        src = dataclasses.replace(self.spec.source, generators=[], weights=None, transform=True, filter=None)
        return run_classify(self.classify_cfg(seed, src, "real_baseline"), splits=self.splits, out=out)

    def gans(self, seed: int, scheme: str, n: int) -> list[Any]:
        """The selected G of GAN 0..n-1 of a sequence (``baseline``: independent seeds; else Algorithm 1)."""
        from ganlab.core.data import subset
        from ganlab.multigan_boosting.boost import selected_generator, train_boosted

        e = self.spec.experiment
        if e.gan_seed is not None:
            seed = e.gan_seed
        root = self.root / f"gans_seed{seed}"
        base = root / "baseline" / "gan_0"
        ds = subset(self.splits.dataset, self.splits.train_indices)
        if scheme != "baseline":
            self.gans(seed, "baseline", 1)
            target = root / f"{scheme}_{e.synthetic}" / "gan_0"
            if not target.exists():  # gan_multi_0 of every conditioned ensemble is the base GAN (reference notes §0)
                shutil.copytree(base, target)
        feature_net = self.filter(seed)[0] if scheme != "baseline" and n > 1 else None
        seq = base.parent if scheme == "baseline" else root / f"{scheme}_{e.synthetic}"
        runs = train_boosted(
            self.gan_config(seed), n, seq, feature_net, "C" if scheme == "baseline" else scheme,
            synthetic=e.synthetic, equalize_class_mass=e.equalize_class_mass, n_per_gan=e.n_per_gan, dataset=ds,
            reweight=scheme != "baseline",
        )  # fmt: skip
        return [selected_generator(r, checkpoint=self.checkpoint) for r in runs]
