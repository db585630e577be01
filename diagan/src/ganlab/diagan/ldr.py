"""Per-instance log-density-ratio (LDR) statistics: the diagnosis of Dia-GAN (Lee et al. 2021, §3 and §4.1).

- :func:`evaluate_ldr` runs a discriminator over the training set (or a subset) without gradients and returns the
  raw logit of every instance, which is LDR(x) = log(D(x) / (1 - D(x))) of eq. (1) for the non-saturating loss and
  D_h(x) itself for the hinge loss (Dia-HingeGAN, §5.2).
- :class:`LDRTracker` keeps the last ``window`` = |T| records in a ring buffer (memory-mapped for large N).
- :func:`ldr_statistics` gives LDRM and LDRV (eq. 2, variance with ddof=1), :func:`discrepancy_score` the score
  s = LDRM + k * sqrt(LDRV) (eq. 7), :func:`clip_scores` the official clipping and :func:`sampling_probabilities`
  P_s(i) = s'_i / sum_j s'_j.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError, ShapeError, TrainingDivergedError

# Above this many bytes the ring buffer lives in a memory-mapped file (CelebA: 50 x 162,770 x 4 B = 33 MB stays
# in RAM; ImageNet: 50 x 1.28M x 4 B = 256 MB goes to disk).
MEMMAP_THRESHOLD_BYTES = 128 * 2**20


# ----------------------------------------------------------------------------------------------- statistics
@dataclass
class LDRStatistics:
    """LDRM, LDRV (eq. 2) and the last record over a window of |T| records, per instance."""

    ldrm: np.ndarray
    ldrv: np.ndarray
    last: np.ndarray
    steps: np.ndarray  # the training steps of the records used, oldest first

    @property
    def num_records(self) -> int:
        return int(len(self.steps))


def ldr_statistics(records: np.ndarray, chunk: int = 1 << 18) -> tuple[np.ndarray, np.ndarray]:
    """LDRM and LDRV (eq. 2) of ``records`` of shape (|T|, N): the mean and the unbiased (ddof=1) variance over T.

    Computed in float64, in column chunks so that a memory-mapped (|T|, N) buffer is never copied whole.
    """
    records = np.asarray(records) if not isinstance(records, np.memmap) else records
    if records.ndim != 2:
        raise ShapeError(f"LDR records must have shape (num_records, num_instances), got {records.shape}")
    t, n = records.shape
    if t < 2:
        raise ConfigError(f"LDRV (eq. 2) needs at least 2 records (it divides by |T| - 1); got {t}")
    ldrm = np.empty(n, dtype=np.float64)
    ldrv = np.empty(n, dtype=np.float64)
    for lo in range(0, n, chunk):
        block = np.asarray(records[:, lo : lo + chunk], dtype=np.float64)
        ldrm[lo : lo + chunk] = block.mean(axis=0)
        ldrv[lo : lo + chunk] = block.var(axis=0, ddof=1)
    return ldrm, ldrv


def discrepancy_score(ldrm: np.ndarray, ldrv: np.ndarray, k: float) -> np.ndarray:
    """The discrepancy score s(x; T) = LDRM(x; T) + k * sqrt(LDRV(x; T)) of eq. (7)."""
    check_k(k)
    ldrm = np.asarray(ldrm, dtype=np.float64)
    ldrv = np.asarray(ldrv, dtype=np.float64)
    if ldrm.shape != ldrv.shape:
        raise ShapeError(f"LDRM {ldrm.shape} and LDRV {ldrv.shape} must have the same shape")
    return ldrm + k * np.sqrt(np.maximum(ldrv, 0.0))


def check_k(k: float) -> None:
    if not math.isfinite(k) or k < 0:
        raise ConfigError(
            f"the score weight k must be a finite number >= 0 (eq. 7 adds k * sqrt(LDRV)); got {k}. "
            "The paper uses k = 0.3 (CIFAR-10), 5.0 (CelebA), 3.0 (FFHQ), 1.0 (Colored MNIST)."
        )


def clip_scores(score: np.ndarray, min_clip: float = 1e-2, max_ratio: float = 50.0) -> np.ndarray:
    """The clipped score s' = max_clip(min_clip(s)) of §4.1, with the official semantics.

    First every score is raised to at least ``min_clip``; then the maximum is capped at ``max_ratio`` times the
    minimum *of the already clipped scores*. When any raw score is <= ``min_clip`` (common: LDR of real data late in
    training is mostly near 0 or negative), the minimum is ``min_clip`` and every weight is capped at
    ``min_clip * max_ratio`` = 0.5, which is what the reference code does.
    """
    if min_clip <= 0 or max_ratio < 1:
        raise ConfigError(f"need min_clip > 0 and max_ratio >= 1; got min_clip={min_clip}, max_ratio={max_ratio}")
    score = np.asarray(score, dtype=np.float64)
    if score.size == 0:
        raise ShapeError("cannot clip an empty score array")
    if not np.all(np.isfinite(score)):
        bad = int((~np.isfinite(score)).sum())
        raise TrainingDivergedError(
            f"{bad} discrepancy scores are NaN or infinite: the discriminator diverged during the LDR window"
        )
    clipped = np.maximum(score, min_clip)
    return np.minimum(clipped, clipped.min() * max_ratio)


def sampling_probabilities(clipped_score: np.ndarray) -> np.ndarray:
    """P_s(i) = s'(x_i) / sum_j s'(x_j) (§4.1), from clipped (positive) scores."""
    s = np.asarray(clipped_score, dtype=np.float64)
    if np.any(s <= 0) or not np.all(np.isfinite(s)):
        raise ConfigError("sampling probabilities need finite positive (clipped) scores; call clip_scores first")
    return s / s.sum()


@dataclass
class Scores:
    """Everything the phase change computes: statistics, raw and clipped scores, probabilities."""

    ldrm: np.ndarray
    ldrv: np.ndarray
    score: np.ndarray
    clipped: np.ndarray
    probs: np.ndarray
    steps: np.ndarray
    k: float

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "ldrm": self.ldrm,
            "ldrv": self.ldrv,
            "score": self.score,
            "clipped": self.clipped,
            "probs": self.probs,
            "steps": self.steps,
            "k": np.asarray(self.k),
        }

    @classmethod
    def from_arrays(cls, arrays: Any) -> Scores:
        names = ("ldrm", "ldrv", "score", "clipped", "probs", "steps")
        return cls(**{name: np.asarray(arrays[name]) for name in names}, k=float(np.asarray(arrays["k"])))


def compute_scores(stats: LDRStatistics, k: float, min_clip: float = 1e-2, max_ratio: float = 50.0) -> Scores:
    """Score (eq. 7), clipping and sampling probabilities (§4.1) from LDR statistics."""
    score = discrepancy_score(stats.ldrm, stats.ldrv, k)
    clipped = clip_scores(score, min_clip, max_ratio)
    return Scores(stats.ldrm, stats.ldrv, score, clipped, sampling_probabilities(clipped), stats.steps, float(k))


# -------------------------------------------------------------------------------------------------- tracker
class LDRTracker:
    """A ring buffer of the last ``capacity`` (default ``window``) LDR records of ``num_instances`` instances;
    statistics use the last ``window`` = |T| of them.

    ``storage``: ``"memory"``, ``"memmap"`` (a float32 file at ``path``) or ``"auto"`` (memmap above
    :data:`MEMMAP_THRESHOLD_BYTES` when a path is given).
    """

    def __init__(
        self,
        num_instances: int,
        window: int = 50,
        storage: str = "auto",
        path: str | Path | None = None,
        capacity: int | None = None,
    ) -> None:
        if num_instances < 1:
            raise ConfigError(f"the LDR tracker needs at least one instance, got {num_instances}")
        if window < 2:
            raise ConfigError(f"the LDR window |T| must be >= 2 (LDRV divides by |T| - 1); got {window}")
        if storage not in ("auto", "memory", "memmap"):
            raise ConfigError(f"LDR storage must be 'auto', 'memory' or 'memmap', not {storage!r}")
        self.num_instances = int(num_instances)
        self.window = int(window)
        self.capacity = max(int(capacity or window), self.window)
        cap = self.capacity
        nbytes = cap * self.num_instances * 4
        use_memmap = storage == "memmap" or (storage == "auto" and path is not None and nbytes > MEMMAP_THRESHOLD_BYTES)
        if use_memmap:
            if path is None:
                raise ConfigError("memory-mapped LDR storage needs a file path")
            self.path: Path | None = Path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.records: np.ndarray = np.memmap(self.path, dtype=np.float32, mode="w+", shape=(cap, num_instances))
        else:
            self.path = None
            self.records = np.zeros((cap, num_instances), dtype=np.float32)
        self.steps = np.full(cap, -1, dtype=np.int64)
        self.count = 0  # records ever added

    @property
    def num_available(self) -> int:
        """Records currently held (at most ``capacity``)."""
        return min(self.count, self.capacity)

    @property
    def last_step(self) -> int | None:
        return None if self.count == 0 else int(self.steps[(self.count - 1) % self.capacity])

    def add(self, step: int, values: np.ndarray) -> None:
        """Store one record (the LDR of every instance at training step ``step``), overwriting the oldest."""
        values = np.asarray(values)
        if values.shape != (self.num_instances,):
            raise ShapeError(f"an LDR record must have shape ({self.num_instances},), got {values.shape}")
        last = self.last_step
        if last is not None and step <= last:
            raise ConfigError(f"LDR records must come in increasing step order; got step {step} after {last}")
        slot = self.count % self.capacity
        self.records[slot] = values.astype(np.float32, copy=False)
        self.steps[slot] = int(step)
        self.count += 1

    def held_records(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, records) of every held record, oldest first; records has shape (num_available, N)."""
        n, cap = self.num_available, self.capacity
        order = np.arange(n) if n < cap else (np.arange(cap) + self.count % cap) % cap
        if n == cap and order[0] == 0:
            return self.steps.copy(), self.records  # already chronological: no copy of a large buffer
        return self.steps[order].copy(), self.records[order]

    def window_records(self, before: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(steps, records) of the last ``window`` held records (recorded at steps < ``before`` if given)."""
        steps, records = self.held_records()
        if before is not None:
            keep = np.flatnonzero(steps < before)
            steps, records = steps[keep], records[keep]
        if len(steps) > self.window:
            steps, records = steps[-self.window :], records[-self.window :]
        return steps, records

    def statistics(self, strict: bool = True, before: int | None = None) -> LDRStatistics:
        """LDRM and LDRV (eq. 2) over the last ``window`` records (at steps < ``before`` if given).

        With ``strict`` (default) fewer than ``window`` records is an error; otherwise the available records are used
        (at least 2), which the method documents as its fallback.
        """
        steps, records = self.window_records(before)
        n = len(steps)
        if n == 0:
            raise ConfigError(
                "no LDR records: phase 2 (weighted sampling) needs phase 1 to record the discriminator's LDR first. "
                "Train phase 1 in this run (method.options.phase1_steps) or start from a phase-1 checkpoint "
                "that holds the records (init_from)."
            )
        if n < self.window and (strict or n < 2):
            raise ConfigError(
                f"only {n} LDR records are available but the window |T| is {self.window}: record earlier "
                f"(method.options.record_from), shrink method.options.window, or set "
                f"method.options.strict_window=false to use the {n} records available (needs >= 2)"
            )
        ldrm, ldrv = ldr_statistics(records)
        last = np.asarray(records[-1], dtype=np.float64)
        return LDRStatistics(ldrm=ldrm, ldrv=ldrv, last=last, steps=steps)

    # checkpointing: the held records in chronological order, as tensors (safe for torch.load(weights_only=True))
    def state_dict(self) -> dict[str, Any]:
        steps, records = self.held_records()
        return {
            "num_instances": self.num_instances,
            "window": self.window,
            "count": self.count,
            "steps": torch.from_numpy(np.ascontiguousarray(steps)),
            "records": torch.from_numpy(np.ascontiguousarray(records, dtype=np.float32)),
        }

    def load_state_dict(self, state: dict[str, Any], before: int | None = None) -> None:
        """Restore held records; with ``before``, only those recorded at steps < ``before`` (the last ``window``)."""
        if int(state["num_instances"]) != self.num_instances:
            raise ConfigError(
                f"the checkpoint's LDR records cover {state['num_instances']} instances but this dataset has "
                f"{self.num_instances}: phase 2 must use the phase-1 dataset"
            )
        steps = np.asarray(state["steps"], dtype=np.int64)
        records = np.asarray(state["records"], dtype=np.float32)
        if before is not None:
            keep_mask = steps < before
            steps, records = steps[keep_mask], records[keep_mask]
        keep = min(len(steps), self.capacity)
        self.steps[:] = -1
        self.steps[:keep] = steps[len(steps) - keep :]
        self.records[:keep] = records[len(steps) - keep :]
        self.count = keep  # chronological from slot 0


# ---------------------------------------------------------------------------------------------- evaluation
@contextlib.contextmanager
def module_mode(module: torch.nn.Module, train: bool):
    """Temporarily put every submodule in train or eval mode, restoring each one's own flag afterwards."""
    flags = [(m, m.training) for m in module.modules()]
    module.train(train)
    try:
        yield module
    finally:
        for m, flag in flags:
            m.training = flag


@contextlib.contextmanager
def rank0_buffers(module: torch.nn.Module, accelerator: Any = None):
    """Under several processes, give ``module`` rank 0's buffers (batch-norm running statistics, which DDP leaves
    per process) for the duration, then put this rank's own back: every rank's shard of an eval-mode LDR record is
    then computed by one and the same D, the one rank 0 checkpoints. A no-op in one process."""
    world = getattr(accelerator, "num_processes", 1) if accelerator is not None else 1
    if world <= 1 or not torch.distributed.is_available() or not torch.distributed.is_initialized():
        yield module
        return
    buffers = [b for b in module.buffers()]
    own = [b.detach().clone() for b in buffers]
    cpu_comm = torch.distributed.get_backend() == "gloo"
    for b in buffers:
        t = b.detach().cpu() if cpu_comm else b.detach()
        torch.distributed.broadcast(t, src=0)
        b.data.copy_(t)
    try:
        yield module
    finally:
        for b, o in zip(buffers, own):
            b.data.copy_(o)


def evaluate_ldr(
    forward: Callable[[dict[str, torch.Tensor]], torch.Tensor],
    dataset: Any,
    indices: Sequence[int] | np.ndarray | None = None,
    *,
    batch_size: int = 1024,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """The raw discriminator logit (eq. 1) of ``dataset`` items at ``indices`` (default: all), as float32 (n,).

    ``forward(batch) -> (B,)`` is called under ``torch.inference_mode`` on batches of ``dataset.get_batch`` moved to
    ``device``, in the given order; the caller sets the train/eval mode (:func:`module_mode`). Always fp32, as the
    official recording: any autocast of the caller (the trainer's ``amp``) is switched off here, since bfloat16
    rounding of the logits would go straight into LDRV.
    """
    if batch_size < 1:
        raise ConfigError(f"the LDR evaluation batch size must be >= 1, got {batch_size}")
    idx = np.arange(len(dataset)) if indices is None else np.asarray(indices, dtype=np.int64)
    device = torch.device(device)
    out = np.empty(len(idx), dtype=np.float32)
    with torch.inference_mode(), torch.autocast(device.type, enabled=False):
        for lo in range(0, len(idx), batch_size):
            chunk = idx[lo : lo + batch_size]
            batch = dataset.get_batch(chunk)
            batch = {
                k: (v.to(device, non_blocking=True).float() if torch.is_floating_point(v) else v)
                if torch.is_tensor(v)
                else v
                for k, v in batch.items()
            }
            logit = forward(batch)
            if logit.dtype != torch.float32:
                raise ShapeError(f"the discriminator returned {logit.dtype} logits; LDR is recorded in float32")
            logit = logit.reshape(-1)
            if logit.shape[0] != len(chunk):
                raise ShapeError(f"the discriminator returned {logit.shape[0]} logits for a batch of {len(chunk)}")
            out[lo : lo + len(chunk)] = logit.cpu().numpy()
    return out


def gather_shards(values: np.ndarray, indices: np.ndarray, total: int, accelerator: Any = None) -> np.ndarray:
    """Assemble per-rank ``values`` at ``indices`` into one (total,) array on every rank.

    With one process this is a scatter; with several it all-gathers (padded to equal length) through torch.distributed.
    """
    out = np.full(total, np.nan, dtype=np.float32)
    world = getattr(accelerator, "num_processes", 1) if accelerator is not None else 1
    if world <= 1 or not torch.distributed.is_available() or not torch.distributed.is_initialized():
        out[indices] = values
        return out
    device = accelerator.device
    n_local = torch.tensor([len(indices)], device=device)
    sizes = [torch.zeros_like(n_local) for _ in range(world)]
    torch.distributed.all_gather(sizes, n_local)
    longest = int(max(s.item() for s in sizes))
    idx = torch.full((longest,), -1, dtype=torch.int64, device=device)
    val = torch.zeros(longest, dtype=torch.float32, device=device)
    idx[: len(indices)] = torch.from_numpy(np.asarray(indices, dtype=np.int64)).to(device)
    val[: len(values)] = torch.from_numpy(np.asarray(values, dtype=np.float32)).to(device)
    all_idx = [torch.empty_like(idx) for _ in range(world)]
    all_val = [torch.empty_like(val) for _ in range(world)]
    torch.distributed.all_gather(all_idx, idx)
    torch.distributed.all_gather(all_val, val)
    gi = torch.cat(all_idx).cpu().numpy()
    gv = torch.cat(all_val).cpu().numpy()
    keep = gi >= 0
    out[gi[keep]] = gv[keep]
    return out
