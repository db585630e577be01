"""A method is a small object that overrides one or two steps of the vanilla GAN; the trainer owns everything else.

The trainer (``ganlab.core.train.trainer.Trainer``) owns devices, optimisers, mixed precision, accumulation, EMA,
checkpoints, logging and the loop. Before the run directory is created it calls ``validate(run)`` (reject bad
options here, e.g. a window that cannot fit in the steps; D must provide the outputs named in ``d_heads``); then
``setup(run)`` once. Each step it asks the method:

1. ``next_real(run)`` for a real batch (default: the ``"main"`` data stream, drawn by ``sampler(run)``);
2. ``sample_fake(run, n, real)`` for a fake batch;
3. ``d_loss(run, real, fake)``, backpropagated and stepped on D (``n_dis`` times per G step);
4. ``after_d_step(run, real, fake)`` (e.g. train an auxiliary D with ``run.optimize``);
5. ``g_loss(run, fake)``, backpropagated and stepped on G;
6. ``on_step_end(run)`` after ``run.step`` was incremented (record statistics, change phase, swap weights).
7. ``on_resume(run)`` once when a run resumes from a checkpoint, after ``load_state_dict``.

``state_dict`` / ``load_state_dict`` are saved in every checkpoint, so a resumed run is exact.

Batches are dicts of tensors on ``run.device``: ``image`` (B, C, H, W) in [-1, 1] or (B, 2) for toys, ``label``
(B,) int64, ``index`` (B,) int64 (dataset positions), optional ``group`` and ``cond`` (instance features, IC-GAN).

The ``run`` argument is the trainer, typed as :class:`ganlab.core.train.run.Run` (methods never import the trainer,
which imports them). Methods may read: ``run.G``, ``run.D`` (wrapped for DDP; call them),
``run.G_ema``, ``run.models`` / ``run.optimizers`` (dicts by name), ``run.loss`` (a :class:`~ganlab.core.losses.GanLoss`
with per-sample ``d_real``, ``d_fake``, ``g``), ``run.cfg`` (:class:`ExperimentConfig`), ``run.step`` (finished G
steps), ``run.epoch`` (real instances seen / dataset size), ``run.dataset``, ``run.device``, ``run.accelerator``,
``run.run_dir``, ``run.num_classes``; and call ``run.unwrap(module)``, ``run.add_model(name, module, lr, betas)``
(in ``setup``), ``run.add_stream(name, sampler)`` / ``run.next_batch(name)`` (extra real-data streams with their own
sampler, e.g. Dia-GAN's uniform stream for the auxiliary D), ``run.set_sampler(name, sampler)``,
``run.optimize(name, loss)`` (backward + step + zero_grad of a named model, AMP-aware), ``run.log(dict)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ganlab.core.registry import Registry
from ganlab.core.train.run import Run

Batch = dict[str, torch.Tensor]

METHODS: Registry[type[Method]] = Registry("method")


@dataclass
class NoOptions:
    """A method without options."""


class Method:
    """The vanilla GAN; a paper subclasses it and overrides only what it changes."""

    name = "vanilla"
    Options: type = NoOptions
    #: the D outputs this method reads (the trainer's contract check asks D for them), e.g. ("adv", "cls") for GOLD
    d_heads: tuple[str, ...] = ("adv",)

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()

    # ------------------------------------------------------------------------------------------------ set-up
    def validate(self, run: Run) -> None:
        """Raise a clear error for options that cannot work with this run's config, data or models; runs before any
        file is written (``run.cfg``, ``run.dataset``, ``run.models`` exist; nothing is trained yet)."""

    def setup(self, run: Run) -> None:
        """Called once, after models, optimisers and the dataset exist and before any step."""

    def sampler(self, run: Run):
        """The index sampler of the ``"main"`` stream; ``None`` means uniform shuffling."""
        return None

    # --------------------------------------------------------------------------------------------------- data
    def next_real(self, run: Run) -> Batch:
        return run.next_batch("main")

    def sample_fake(self, run: Run, n: int, real: Batch | None = None) -> Batch:
        """Draw z ~ N(0, I) and labels uniformly (conditional G), and generate ``n`` images."""
        z = torch.randn(n, run.z_dim, device=run.device)
        out: Batch = {"z": z}
        label = None
        if run.num_classes:
            label = torch.randint(0, run.num_classes, (n,), device=run.device)
            out["label"] = label
        out["image"] = run.G(z, y=label)
        return out

    # ------------------------------------------------------------------------------------------------- losses
    def d_forward(self, run: Run, batch: Batch, module=None) -> dict[str, torch.Tensor]:
        """D's outputs (a dict with ``adv`` of shape (B,)) on a batch, conditioned as the batch says."""
        d = module if module is not None else run.D
        return d(batch["image"], y=batch.get("label") if run.num_classes else None, feat=batch.get("cond"))

    # Losses return (loss, logs); log values may be detached tensors (read once per log record, no sync per step).
    def d_loss(self, run: Run, real: Batch, fake: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        fake = {**fake, "image": fake["image"].detach()}
        out_r = self.d_forward(run, real)
        out_f = self.d_forward(run, fake)
        loss_r = run.loss.d_real(out_r["adv"]).mean()
        loss_f = run.loss.d_fake(out_f["adv"]).mean()
        logs = {"d_loss_real": loss_r.detach(), "d_loss_fake": loss_f.detach()}
        loss = loss_r + loss_f
        weight = run.cfg.loss.class_weight
        if weight:  # ACGAN's auxiliary classifier on real and fake items
            cls = F.cross_entropy(out_r["cls"], real["label"]) + F.cross_entropy(out_f["cls"], fake["label"])
            loss = loss + weight * cls
            logs["d_class_loss"] = cls.detach()
        return loss, logs

    def after_d_step(self, run: Run, real: Batch, fake: Batch) -> None:
        """Called after every D step (``n_dis`` times per G step)."""

    def g_loss(self, run: Run, fake: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        out = self.d_forward(run, fake)
        loss = run.loss.g(out["adv"]).mean()
        logs = {"g_loss": loss.detach()}
        weight = run.cfg.loss.class_weight
        if weight:
            cls = F.cross_entropy(out["cls"], fake["label"])
            loss = loss + weight * cls
            logs["g_class_loss"] = cls.detach()
        return loss, logs

    def on_step_end(self, run: Run) -> None:
        """Called after each G step; ``run.step`` counts finished G steps."""

    # --------------------------------------------------------------------------------------------- checkpoint
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def grid_features(self, run: Run, n: int) -> torch.Tensor | None:
        """Instance features (n, feat_dim) for the fixed-z sample grids of an instance-conditioned G (IC-GAN);
        ``None`` skips the grids for such a G."""
        return None

    def instance_scores(self, run: Run) -> dict[str, Any] | None:
        """Per-training-instance scores this method computes, for side-by-side comparison of methods.

        A dict ``{score_name: array of shape (len(run.dataset),)}`` aligned with dataset positions (``index``),
        NaN where an instance has no score; ``None`` (the vanilla GAN) when the method scores nothing. Called after
        training (e.g. Dia-GAN: LDRM / LDRV / score; GOLD: the estimator on real samples; IC-GAN: neighbourhood
        radius; instance selection: density).
        """
        return None

    def on_resume(self, run: Run) -> None:
        """Called when resuming, after ``load_state_dict`` and before the streams' sampler states are restored:
        re-install any sampler the method swapped in during training (``run.set_sampler``), so the saved sampler
        state lands in a sampler of the same kind."""


METHODS.register("vanilla")(Method)
