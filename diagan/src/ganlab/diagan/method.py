"""The Dia-GAN training method (Lee et al. 2021, §4.4): diagnose, re-weight, correct.

- **Phase 1** (steps ``1 .. phase1_steps``): vanilla training with uniform data; every ``record_every`` steps in the
  last ``window`` x ``record_every`` steps the discriminator's raw logit (LDR, eq. 1) of every training instance is
  recorded (:class:`~ganlab.diagan.ldr.LDRTracker`).
- **Phase change** (after step ``phase1_steps``): LDRM/LDRV (eq. 2) over the records of steps
  [phase1_steps - window * record_every, phase1_steps) (the record *at* phase1_steps is not used, as in the official
  code), the score s = LDRM + k sqrt(LDRV) (eq. 7), clipped (min 1e-2 first, then max 50 x min) and normalised into
  P_s. The run continues from its phase-1 state (models, optimisers, LR schedule, step), like the official code
  that restarts phase 2 from the phase-1 checkpoint.
- **Phase 2**: the main stream draws instances with replacement from P_s (core ``WeightedSampler``, an epoch = N
  draws); an auxiliary discriminator, initialised from the phase-1 D and its optimiser state and always trained with
  the non-saturating loss, trains after each main-D step on a *uniform* stream (the official CIFAR/CelebA code
  switches it to the weighted stream after one pass, a bug not reproduced here).
- **Phase 3**: :func:`drs_generate` draws samples with discriminator rejection sampling (core ``drs_sample``) using
  the auxiliary D's logits.

The hinge variant (Dia-HingeGAN, §5.2) is the same method with ``loss.name: hinge``: the recorded statistic is then
D_h(x) itself, and the auxiliary D stays non-saturating.

With ``phase1_steps: null`` the method is vanilla training that still records LDR (for the diagnosis experiments).
"""

from __future__ import annotations

import contextlib
import copy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError, DatasetError
from ganlab.core.train.method import METHODS, Batch, Method
from ganlab.diagan.ldr import (
    LDRTracker,
    Scores,
    check_k,
    compute_scores,
    evaluate_ldr,
    gather_shards,
    module_mode,
    rank0_buffers,
)

if TYPE_CHECKING:  # pragma: no cover
    from ganlab.core.train.trainer import Trainer

log = logging.getLogger(__name__)

AUX = "aux_d"  # name of the auxiliary discriminator in run.models / run.optimizers
UNIFORM = "uniform"  # name of the auxiliary D's data stream


@dataclass
class DiaGANOptions:
    """Options of :class:`DiaGAN` (defaults: the official CIFAR-10 setting)."""

    phase1_steps: int | None = None  # None: no phase 2 (vanilla + LDR recording); CIFAR-10 40000, CelebA 60000
    k: float = 0.3  # eq. 7; CIFAR-10 0.3, CelebA 5.0, FFHQ 3.0, Colored MNIST 1.0, MNIST-FMNIST 5.0
    window: int = 50  # |T|, records used for LDRM/LDRV
    record_every: int = 100
    record_from: int | None = None  # first recorded step; None: record_until - window * record_every
    record_until: int | None = None  # record steps < this; None: phase1_steps (or to the end without phase 2)
    capacity: int | None = None  # records held (>= window; more lets one run serve two windows); None: window
    min_clip: float = 1e-2
    max_ratio: float = 50.0
    eval_mode: bool = True  # False: record with D in train mode (the official Colored MNIST phase 1)
    # recording batch; None: the training batch in train mode (the official recording iterates the training loader,
    # batch 64, shuffled, so batch-norm statistics match training), 1024 in eval mode (no batch dependence there)
    eval_batch_size: int | None = None
    eval_subset: int | None = None  # record a seeded random subset of this many instances (diagnosis only)
    strict_window: bool = True  # False: fewer than |T| records at the phase change -> use those available (>= 2)
    aux_discriminator: bool = True  # the auxiliary NS-trained D for DRS (phase 3)
    storage: str = "auto"  # LDR ring buffer: auto | memory | memmap
    uniform_seed_offset: int = 7919  # the auxiliary D's uniform stream uses seed + offset
    # SSGAN (Chen et al. 2019) rotation losses for a D with a ``rot`` head; mimicry: 1.0 (D), 0.2 (G)
    ss_d_scale: float = 0.0
    ss_g_scale: float = 0.0

    def validate(self) -> None:
        check_k(self.k)
        if self.window < 2:
            raise ConfigError(f"method.options.window must be >= 2 (LDRV uses ddof=1); got {self.window}")
        if self.record_every < 1:
            raise ConfigError(f"method.options.record_every must be >= 1; got {self.record_every}")
        if self.phase1_steps is not None and self.phase1_steps < 1:
            raise ConfigError(
                f"method.options.phase1_steps={self.phase1_steps}: phase 2 needs a phase 1 that records LDR "
                "(phase1_steps >= 1), or null for no phase 2"
            )
        if self.eval_subset is not None:
            if self.eval_subset < 1:
                raise ConfigError(f"method.options.eval_subset must be >= 1 or null; got {self.eval_subset}")
            if self.phase1_steps is not None:
                raise ConfigError(
                    "method.options.eval_subset records only part of the data, but phase 2 needs a score for every "
                    "instance: use eval_subset only without phase 2 (phase1_steps: null)"
                )
        if self.eval_batch_size is not None and self.eval_batch_size < 1:
            raise ConfigError(f"method.options.eval_batch_size must be >= 1 or null; got {self.eval_batch_size}")
        if self.ss_d_scale < 0 or self.ss_g_scale < 0:
            raise ConfigError("method.options.ss_d_scale and ss_g_scale must be >= 0")
        if self.min_clip <= 0 or self.max_ratio < 1:
            raise ConfigError("method.options.min_clip must be > 0 and max_ratio >= 1")
        if self.storage not in ("auto", "memory", "memmap"):
            raise ConfigError(f"method.options.storage must be auto, memory or memmap; got {self.storage!r}")

    def recording_batch(self, train_batch: int) -> int:
        """The LDR recording batch: in train mode it must be the training batch (batch-norm statistics, dropout)."""
        if self.eval_mode:
            return self.eval_batch_size or 1024
        if self.eval_batch_size is not None and self.eval_batch_size != train_batch:
            raise ConfigError(
                f"method.options.eval_batch_size={self.eval_batch_size} records D in train mode at another batch than "
                f"training ({train_batch}): batch-norm statistics and LDRV would differ from the official recording; "
                "leave it null (the training batch) or set eval_mode: true"
            )
        return int(train_batch)

    def last_record_bound(self, total_steps: int) -> int:
        """Steps strictly below this bound are recorded (the official window [p1 - 5000, p1) excludes p1)."""
        if self.record_until is not None:
            return self.record_until
        return self.phase1_steps if self.phase1_steps is not None else total_steps + 1

    def first_record_step(self, total_steps: int) -> int:
        if self.record_from is not None:
            return self.record_from
        return max(self.last_record_bound(total_steps) - self.window * self.record_every, 0)


def _rank_world(run: Any) -> tuple[int, int]:
    acc = getattr(run, "accelerator", None)
    if acc is None:
        return 0, 1
    return int(acc.process_index), int(acc.num_processes)


def _is_main(run: Any) -> bool:
    acc = getattr(run, "accelerator", None)
    return True if acc is None else bool(acc.is_main_process)


def _run_path(run: Any) -> Path | None:
    rd = getattr(run, "run_dir", None)
    if rd is None:
        return None
    return Path(getattr(rd, "path", rd))


def _unwrap(run: Any, module: torch.nn.Module) -> torch.nn.Module:
    return run.unwrap(module) if hasattr(run, "unwrap") else module


def _d_optimizer_name(run: Any) -> str:
    for name in ("D", "d", "disc", "discriminator"):
        if name in run.optimizers:
            return name
    raise ConfigError(f"cannot find the discriminator's optimiser among {sorted(run.optimizers)}")


@METHODS.register("diagan")
class DiaGAN(Method):
    """Self-Diagnosing GAN: LDR diagnosis in phase 1, score-based weighted sampling in phase 2, DRS in phase 3."""

    name = "diagan"
    Options = DiaGANOptions

    def __init__(self, options: DiaGANOptions | None = None) -> None:
        super().__init__(options)
        self.options.validate()
        self.phase = 1
        self.tracker: LDRTracker | None = None
        self.record_indices: np.ndarray | None = None
        self.probs: np.ndarray | None = None
        self.scores: Scores | None = None
        self._weighted_sampler = None
        self._pending: dict[str, Any] | None = None
        self._sampler_installed = False
        self.aux_seen: list[np.ndarray] | None = None  # set to [] to log the indices the auxiliary D trains on

    # ------------------------------------------------------------------------------------------------ set-up
    def validate(self, run: Trainer) -> None:
        """Before any file is written: the phase-1 window must hold |T| records by the phase change."""
        opts, total = self.options, run.cfg.train.steps
        opts.recording_batch(run.cfg.train.batch_size)
        if opts.phase1_steps is None or opts.phase1_steps > total or getattr(run, "init_state", None) is not None:
            return  # no phase change in this run, or its records come from the phase-1 checkpoint
        lo = max(opts.first_record_step(total), 1)
        hi = min(opts.last_record_bound(total), opts.phase1_steps)
        count = max(0, (hi - 1) // opts.record_every - (lo - 1) // opts.record_every) if hi > lo else 0
        need = opts.window if opts.strict_window else 2
        if count < need:
            raise ConfigError(
                f"Dia-GAN's phase 2 starts at step {opts.phase1_steps}, but recording every {opts.record_every} steps "
                f"over [{lo}, {hi}) gives {count} LDR records and the window |T| needs {need}: lower "
                "method.options.record_every or window, move record_from earlier, or raise phase1_steps"
                + ("" if not opts.strict_window else " (or set strict_window=false to use the records available)")
            )

    def setup(self, run: Trainer) -> None:
        opts = self.options
        n = len(run.dataset)
        if opts.eval_subset is not None and opts.eval_subset < n:
            rng = np.random.default_rng(run.cfg.seed)
            self.record_indices = np.sort(rng.choice(n, size=opts.eval_subset, replace=False))
        else:
            self.record_indices = np.arange(n)
        path = _run_path(run)
        self.tracker = LDRTracker(
            len(self.record_indices),
            window=opts.window,
            storage=opts.storage,
            path=None if path is None else path / "ldr" / "records.f32",
            capacity=opts.capacity,
        )
        if opts.phase1_steps is not None:
            total = run.cfg.train.steps
            if opts.phase1_steps > total:
                log.warning("phase1_steps=%d > train.steps=%d: this run stops in phase 1", opts.phase1_steps, total)
            if opts.aux_discriminator:
                aux = copy.deepcopy(_unwrap(run, run.D))
                run.add_model(AUX, aux, lr=run.cfg.optim.d_lr, betas=tuple(run.cfg.optim.betas))
                from ganlab.core.data.samplers import InfiniteSampler

                rank, world = _rank_world(run)
                seed = run.cfg.seed + opts.uniform_seed_offset
                run.add_stream(UNIFORM, InfiniteSampler(n, seed=seed, rank=rank, world_size=world))
        if self._pending is not None:
            self._apply_state(self._pending)
            self._pending = None
        init_state = getattr(run, "init_state", None)
        if init_state is not None and init_state.get("method"):
            # init_from a phase-1 checkpoint: its LDR records before phase1_steps are this run's diagnosis
            self._apply_state(init_state["method"], before=opts.phase1_steps)
            if self.phase == 2:
                raise ConfigError(
                    "init_from points at a checkpoint already in phase 2; start phase 2 from a phase-1 checkpoint "
                    "or resume that run instead"
                )

    def on_resume(self, run: Trainer) -> None:
        """After a resume in phase 2: put the weighted sampler back before the trainer restores its position."""
        if self.phase == 2:
            self._weighted_sampler = self._make_weighted_sampler(run)
            run.set_sampler("main", self._weighted_sampler)
            self._sampler_installed = True

    def sampler(self, run: Trainer):
        if self.phase == 2:
            self._weighted_sampler = self._weighted_sampler or self._make_weighted_sampler(run)
            self._sampler_installed = True
            return self._weighted_sampler
        return None

    # --------------------------------------------------------------------------------------------------- data
    def next_real(self, run: Trainer) -> Batch:
        self._catch_up(run)
        return run.next_batch("main")

    def _catch_up(self, run: Trainer) -> None:
        """Enter phase 2 when a run starts at or past ``phase1_steps`` (``init_from`` a phase-1 checkpoint, resume)."""
        p1 = self.options.phase1_steps
        if self.phase == 1 and p1 is not None and run.step >= p1:
            self.start_phase2(run)
        elif self.phase == 2 and not self._sampler_installed:
            self._weighted_sampler = self._weighted_sampler or self._make_weighted_sampler(run)
            run.set_sampler("main", self._weighted_sampler)
            self._sampler_installed = True

    # ---------------------------------------------------------------------------------------------- recording
    def should_record(self, step: int, total_steps: int) -> bool:
        opts = self.options
        if step % opts.record_every != 0 or step < opts.first_record_step(total_steps):
            return False
        # the window ends *before* the phase change: the record at phase1_steps is never used, so skip its cost
        return self.phase == 1 and step < opts.last_record_bound(total_steps)

    def record(self, run: Trainer) -> np.ndarray:
        """One LDR record of the recorded instances with the main D (eval mode unless configured), all ranks."""
        assert self.tracker is not None and self.record_indices is not None
        d = _unwrap(run, run.D)
        rank, world = _rank_world(run)
        positions = np.arange(len(self.record_indices))[rank::world]
        train_mode = not self.options.eval_mode
        if train_mode:  # the official train-mode pass goes through the shuffled training loader: random batches
            positions = np.random.default_rng([run.cfg.seed, run.step]).permutation(positions)
        # eval mode: one D for every shard (rank 0's BN statistics); train mode uses each batch's own statistics
        same_d = contextlib.nullcontext() if train_mode else rank0_buffers(d, getattr(run, "accelerator", None))
        with module_mode(d, train=train_mode), same_d:
            values = evaluate_ldr(
                lambda batch: self.d_forward(run, batch, module=d)["adv"],
                run.dataset,
                self.record_indices[positions],
                batch_size=self.options.recording_batch(run.cfg.train.batch_size),
                device=run.device,
            )
        full = gather_shards(values, positions, len(self.record_indices), getattr(run, "accelerator", None))
        self.tracker.add(run.step, full)
        return full

    def on_step_end(self, run: Trainer) -> None:
        step = run.step
        if self.should_record(step, run.cfg.train.steps):
            self.record(run)
        p1 = self.options.phase1_steps
        if self.phase == 1 and p1 is not None and step >= p1:
            self.start_phase2(run)

    # ------------------------------------------------------------------------------------------- phase change
    def compute_scores(self) -> Scores:
        """Scores and sampling probabilities (eq. 2, 7, §4.1) from the records held now."""
        if self.tracker is None:
            raise ConfigError("the method is not set up: no LDR tracker")
        stats = self.tracker.statistics(strict=self.options.strict_window, before=self.options.phase1_steps)
        return compute_scores(stats, self.options.k, self.options.min_clip, self.options.max_ratio)

    def start_phase2(self, run: Trainer) -> None:
        """Switch to score-based weighted sampling and initialise the auxiliary D from the phase-1 D."""
        scores = self.compute_scores()
        if len(scores.probs) != len(run.dataset):
            raise DatasetError(
                f"the LDR records cover {len(scores.probs)} instances but the dataset has {len(run.dataset)}"
            )
        self.scores = scores
        self.probs = scores.probs
        self.phase = 2
        self._weighted_sampler = self._make_weighted_sampler(run)
        run.set_sampler("main", self._weighted_sampler)
        self._sampler_installed = True
        if self.options.aux_discriminator and AUX in run.models:
            self._init_aux_from_d(run)
        self.save_scores(run)
        run.log(
            {
                "diagan/phase": 2,
                "diagan/records": int(len(scores.steps)),
                "diagan/score_mean": float(scores.score.mean()),
                "diagan/frac_at_min_clip": float((scores.score <= self.options.min_clip).mean()),
                "diagan/max_prob_ratio": float(scores.probs.max() / scores.probs.min()),
            }
        )

    def _make_weighted_sampler(self, run: Trainer):
        from ganlab.core.data.samplers import WeightedSampler

        if self.probs is None:
            raise ConfigError("phase 2 needs the phase-1 scores; none were computed or loaded")
        rank, world = _rank_world(run)
        return WeightedSampler(self.probs, seed=run.cfg.seed, rank=rank, world_size=world, epoch_size=len(self.probs))

    def _init_aux_from_d(self, run: Trainer) -> None:
        """The official phase 2 loads the auxiliary D from the phase-1 D checkpoint, optimiser state included."""
        aux = _unwrap(run, run.models[AUX])
        aux.load_state_dict(_unwrap(run, run.D).state_dict())
        d_opt = run.optimizers[_d_optimizer_name(run)]
        aux_opt = run.optimizers[AUX]
        state = copy.deepcopy(d_opt.state_dict())
        # keep the aux optimiser's own learning rate entries (its LR schedule), take D's moments and step counts
        for g_new, g_old in zip(state["param_groups"], aux_opt.state_dict()["param_groups"]):
            g_new["params"] = g_old["params"]
        aux_opt.load_state_dict(state)

    def instance_scores(self, run: Trainer) -> dict[str, np.ndarray] | None:
        """LDRM, LDRV and the score s (eq. 2, 7) of every training instance: the phase-change scores, or those of the
        records held now (a vanilla run that only records); NaN for instances not recorded; None without records."""
        scores = self.scores
        if scores is None:
            try:
                stats = (
                    self.tracker.statistics(strict=False, before=self.options.phase1_steps) if self.tracker else None
                )
            except ConfigError:
                return None
            if stats is None:
                return None
            scores = compute_scores(stats, self.options.k, self.options.min_clip, self.options.max_ratio)
        n = len(run.dataset)
        out = {}
        for name in ("ldrm", "ldrv", "score"):
            full = np.full(n, np.nan)
            full[self.record_indices] = getattr(scores, name)
            out[name] = full
        return out

    def save_scores(self, run: Trainer) -> None:
        path = _run_path(run)
        if path is None or self.scores is None or not _is_main(run):
            return
        from ganlab.core.results import atomic_save

        arrays = self.scores.to_arrays()
        arrays["indices"] = self.record_indices
        atomic_save(arrays, path / "ldr" / "scores.npz", saver=lambda obj, f: np.savez(f, **obj))

    # ------------------------------------------------------------------------------------------------ SSGAN
    def d_loss(self, run: Trainer, real: Batch, fake: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        loss, logs = super().d_loss(run, real, fake)
        if self.options.ss_d_scale > 0:
            ss = rotation_loss(self, run, real, run.D)
            loss = loss + self.options.ss_d_scale * ss
            logs = {**logs, "d_ss_loss": ss.item()}
        return loss, logs

    def g_loss(self, run: Trainer, fake: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        loss, logs = super().g_loss(run, fake)
        if self.options.ss_g_scale > 0:
            ss = rotation_loss(self, run, fake, run.D)
            loss = loss + self.options.ss_g_scale * ss
            logs = {**logs, "g_ss_loss": ss.item()}
        return loss, logs

    # ------------------------------------------------------------------------------------------ auxiliary D
    def after_d_step(self, run: Trainer, real: Batch, fake: Batch) -> None:
        if self.phase != 2 or not self.options.aux_discriminator or AUX not in run.models:
            return
        from ganlab.core.losses import get_loss

        batch = run.next_batch(UNIFORM)
        if self.aux_seen is not None:
            self.aux_seen.append(batch["index"].detach().cpu().numpy())
        with torch.no_grad():
            fake_u = self.sample_fake(run, batch["image"].shape[0])
        fake_u = {**fake_u, "image": fake_u["image"].detach()}
        ns = get_loss("ns")  # always NS: its logit is the LDR estimate that DRS needs, whatever the main loss
        aux = run.models[AUX]
        loss = ns.d_real(self.d_forward(run, batch, module=aux)["adv"]).mean()
        loss = loss + ns.d_fake(self.d_forward(run, fake_u, module=aux)["adv"]).mean()
        if self.options.ss_d_scale > 0:  # an SSGAN aux D trains as SSGAN's D: its rotation loss on the real batch
            loss = loss + self.options.ss_d_scale * rotation_loss(self, run, batch, aux)
        run.optimize(AUX, loss)

    # -------------------------------------------------------------------------------------------- checkpoint
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"phase": self.phase}
        if self.tracker is not None:
            state["tracker"] = self.tracker.state_dict()
        if self.record_indices is not None:
            state["record_indices"] = torch.from_numpy(self.record_indices.astype(np.int64))
        if self.probs is not None:
            state["probs"] = torch.from_numpy(np.asarray(self.probs, dtype=np.float64))
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.tracker is None:  # loaded before setup: apply when the tracker exists
            self._pending = state
            self.phase = int(state.get("phase", 1))
            if "probs" in state:
                self.probs = np.asarray(state["probs"], dtype=np.float64)
            return
        self._apply_state(state)

    def _apply_state(self, state: dict[str, Any], before: int | None = None) -> None:
        self.phase = int(state.get("phase", 1))
        if "tracker" in state and self.tracker is not None:
            self.tracker.load_state_dict(state["tracker"], before=before)
        if "record_indices" in state:
            self.record_indices = np.asarray(state["record_indices"], dtype=np.int64)
        if "probs" in state:
            self.probs = np.asarray(state["probs"], dtype=np.float64)
        self._weighted_sampler = None
        self._sampler_installed = False


# ------------------------------------------------------------------------------------------------------- SSGAN
def rotate_quarters(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate image i of a batch of N by 90 x (4i // N) degrees (mimicry's SSGAN batch rotation); returns (images,
    rotation class ids)."""
    n = images.shape[0]
    rot = (torch.arange(n, device=images.device) * 4) // n
    out = images.clone()
    for r in range(1, 4):
        sel = rot == r
        if bool(sel.any()):
            out[sel] = torch.rot90(images[sel], r, dims=(2, 3))
    return out, rot


def rotation_loss(method: Method, run: Any, batch: Batch, module: torch.nn.Module) -> torch.Tensor:
    """Cross-entropy of D's rotation head on the quarter-rotated batch (SSGAN's self-supervised term)."""
    images, target = rotate_quarters(batch["image"])
    out = method.d_forward(run, {**batch, "image": images}, module=module)
    if "rot" not in out:
        raise ConfigError("ss_d_scale/ss_g_scale need a discriminator with a rotation head (an ssgan backbone)")
    return torch.nn.functional.cross_entropy(out["rot"], target)


# ------------------------------------------------------------------------------------------------------ phase 3
def drs_generate(
    G: torch.nn.Module,
    D: torch.nn.Module,
    n: int,
    *,
    z_dim: int | None = None,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
    percentile: float = 80.0,
    burn_in: int = 50,
    seed: int = 0,
) -> torch.Tensor:
    """Phase 3: ``n`` samples of G accepted by discriminator rejection sampling with logits of ``D`` (core DRS).

    ``D`` is the auxiliary discriminator (trained on uniform data); both models are evaluated in eval mode, as the
    official evaluation does. Settings default to the official ones (batches of 256, 50 burn-in batches for M,
    gamma = 80th percentile per batch, eps = 1e-6).
    """
    from ganlab.core.sampling import drs_sample

    device = torch.device(device)
    z_dim = z_dim or G.z_dim
    gen = torch.Generator(device="cpu").manual_seed(seed)

    def sample_fn(b: int) -> torch.Tensor:
        z = torch.randn(b, z_dim, generator=gen).to(device)
        return G(z)

    def logit_fn(x: torch.Tensor) -> torch.Tensor:
        return D(x)["adv"].float().reshape(-1)

    with module_mode(G, train=False), module_mode(D, train=False), torch.no_grad():
        return drs_sample(
            sample_fn, logit_fn, n, batch_size=batch_size, burn_in=burn_in, percentile=percentile, generator=gen
        )


def generate(
    G: torch.nn.Module,
    n: int,
    *,
    z_dim: int | None = None,
    device: torch.device | str = "cpu",
    batch_size: int = 1000,
    seed: int = 0,
) -> torch.Tensor:
    """``n`` plain samples of G in eval mode (the vanilla rows)."""
    device = torch.device(device)
    z_dim = z_dim or G.z_dim
    gen = torch.Generator(device="cpu").manual_seed(seed)
    out = []
    with module_mode(G, train=False), torch.no_grad():
        for lo in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - lo), z_dim, generator=gen).to(device)
            out.append(G(z).cpu())
    return torch.cat(out)
