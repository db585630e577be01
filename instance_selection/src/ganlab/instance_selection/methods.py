"""Training on the selected subset through the core trainer: the ``instance_selection`` method.

Only the real-data *sampler* changes: it shuffles over the kept indices of the full dataset. The trainer's dataset
stays the full, unselected dataset, so anything that evaluates against ``run.dataset`` (or rebuilds the dataset from
``cfg.data``) compares with the original distribution, as the paper requires.

Config::

    method:
      name: instance_selection
      options:
        index_file: runs/is/indices.npz      # from `ganlab instance-selection select`; refused for another dataset
        # or compute it at set-up (and write it to index_file when given):
        selection: {embedding: inception_torchvision, scorer: gaussian, retention_ratio: 50}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganlab.core.errors import CheckpointError, ConfigError
from ganlab.core.train.method import METHODS, Method
from ganlab.instance_selection.api import SelectionConfig, select_instances
from ganlab.instance_selection.selection import Selection


@dataclass
class InstanceSelectionOptions:
    """Where the kept indices come from: an index file, or selection settings computed at set-up."""

    index_file: str | None = None
    selection: dict[str, Any] | None = None
    cache_dir: str | None = None  # feature cache for the embedding step

    def validate(self) -> None:
        if self.index_file is None and self.selection is None:
            raise ConfigError(
                "method instance_selection needs options.index_file (from `ganlab instance-selection select`) "
                "or options.selection (e.g. {scorer: gaussian, retention_ratio: 50})"
            )


@METHODS.register("instance_selection")
class InstanceSelection(Method):
    """Vanilla GAN training whose real batches come only from the kept instances (Section 3)."""

    name = "instance_selection"
    Options = InstanceSelectionOptions

    def __init__(self, options: Any = None, selection: Selection | None = None) -> None:
        super().__init__(options)
        self.selection = selection

    def setup(self, run: Any) -> None:
        opts = self.options
        if self.selection is not None:
            self.selection.check_dataset(run.dataset)
            return
        if opts.selection is None:
            self.selection = Selection.load(opts.index_file, dataset=run.dataset)
            return
        from ganlab.core.config import from_dict

        cfg = from_dict(SelectionConfig, dict(opts.selection), where="method.options.selection")
        self.selection = select_instances(
            run.dataset, cfg, index_file=opts.index_file, device=run.device, cache_dir=opts.cache_dir
        )
        if opts.index_file is not None:
            self.selection.check_dataset(run.dataset)
        if run.is_main:
            run.run_dir.log_metrics(
                {
                    "event": "instance_selection",
                    "kept": len(self.selection),
                    "dataset_size": self.selection.dataset_size,
                    **{f"selection.{k}": v for k, v in self.selection.settings.items() if not isinstance(v, dict)},
                }
            )

    def sampler(self, run: Any):
        from ganlab.core.data.samplers import InfiniteSampler

        return InfiniteSampler(
            len(run.dataset),
            seed=run.cfg.seed,
            rank=run.rank,
            world_size=run.world_size,
            indices=self.selection.indices,
        )

    def state_dict(self) -> dict[str, Any]:
        sel = self.selection
        return {"dataset_fingerprint": sel.dataset_fingerprint, "settings_fingerprint": sel.settings_fingerprint}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        sel = self.selection
        if state and (
            state.get("dataset_fingerprint") != sel.dataset_fingerprint
            or state.get("settings_fingerprint") != sel.settings_fingerprint
        ):
            raise CheckpointError(
                "this checkpoint was trained on a different instance selection (dataset or settings changed); "
                "resume with the index file the run started with"
            )
