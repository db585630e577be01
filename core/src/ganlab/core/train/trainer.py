"""The one training loop every method runs through (Accelerate; CPU, one GPU or several with DDP).

Per G step (``run.step`` counts finished G steps):

1. ``n_dis`` times: zero D's gradients; for each of ``d_accum`` micro-batches draw a real batch
   (``method.next_real``) and a fake batch (``method.sample_fake``, no gradient into G), compute
   ``method.d_loss`` and backpropagate (DDP gradient sync only on the last micro-batch); step D;
   ``method.after_d_step``.
2. zero G's gradients; for each of ``g_accum`` micro-batches: ``method.sample_fake`` then ``method.g_loss``,
   backpropagated into G's parameters only; step G.
3. ``run.step += 1``; EMA update; ``method.on_step_end``; logging, sample grid and checkpoint when due.

The trainer draws indices itself from rank-aware samplers and fetches them with ``dataset.get_batch``, so a
checkpoint's sampler state is exactly what was consumed; ``accelerator.prepare`` never sees the data. Mixed precision
is plain ``torch.autocast`` with one GradScaler per model (fp16), since Accelerate keeps only one scaler.

A checkpoint (``checkpoints/step_XXXXXXXX.pt``, written atomically, the last ``train.keep_last`` kept) holds the
models, optimisers, GradScalers, EMA, the method's state, the resolved config, the step and, for every process, the
python/numpy/torch(/CUDA) RNG states and every stream's sampler state; resuming on CPU is bit-identical.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import math
import os
import random
import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganlab.core.config import config_diff, from_dict, to_dict
from ganlab.core.errors import CheckpointError, ConfigError, ShapeError, TrainingDivergedError
from ganlab.core.losses import get_loss
from ganlab.core.results import RunDir, atomic_save, atomic_write_bytes
from ganlab.core.train.config import ExperimentConfig, MethodConfig
from ganlab.core.train.method import METHODS, Batch, Method

CHECKPOINT_FORMAT = "ganlab-trainer/1"

# Keys that do not change the trajectory of training: a resumed run may change them freely.
RESUME_SAFE_KEYS = (
    "name",
    "out_dir",
    "data.root",
    "data.num_workers",
    "train.log_every",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_last",
    "train.sample_grid",
    "train.progress",
    "train.tensorboard",
    "eval",
)


# ---------------------------------------------------------------------------------------------------------- EMA
class EMA:
    """Exponential moving average of a model's parameters (BigGAN's G_ema; Yazici et al. 2019).

    Before step ``start`` the average is a plain copy of the model; from ``start`` on, every float parameter moves as
    ``ema <- decay * ema + (1 - decay) * param``. Buffers (BN running statistics, SN vectors, counters) are copied,
    so the averaged model runs in eval mode with the live model's statistics.
    """

    def __init__(self, model: nn.Module, decay: float = 0.9999, start: int = 0) -> None:
        if not 0.0 <= decay <= 1.0:
            raise ConfigError(f"ema.decay must lie in [0, 1], got {decay}")
        self.decay, self.start = float(decay), int(start)
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        """Update after the ``step``-th finished step: copy if ``step < start``, else lerp by ``1 - decay``."""
        src = dict(model.named_parameters())
        dst = dict(self.model.named_parameters())
        if src.keys() != dst.keys():
            raise ShapeError("EMA: the model's parameters no longer match the averaged copy")
        pairs = [(dst[k], src[k].detach()) for k in dst]
        if step < self.start:
            for d, s in pairs:
                d.copy_(s)
        else:
            floats = [(d, s) for d, s in pairs if d.is_floating_point()]
            if floats:
                torch._foreach_lerp_([d for d, _ in floats], [s for _, s in floats], 1.0 - self.decay)
            for d, s in pairs:
                if not d.is_floating_point():
                    d.copy_(s)
        for (_, d), (_, s) in zip(self.model.named_buffers(), model.named_buffers()):
            d.copy_(s)

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "decay": self.decay, "start": self.start}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])


# ------------------------------------------------------------------------------------------------------ helpers
def build_method(cfg: MethodConfig) -> Method:
    """Instantiate ``cfg.name`` from METHODS with its options validated against ``Method.Options``."""
    _import_method_packages(cfg.name)
    cls = METHODS.get(cfg.name)
    schema = getattr(cls, "Options", None)
    if schema is not None and dataclasses.is_dataclass(schema):
        options = from_dict(schema, dict(cfg.options), where="method.options")
    else:
        options = dict(cfg.options) or None
    return cls(options)


def _import_method_packages(name: str) -> None:
    """Make sure ``name`` is registered: core's own methods, then every installed ganlab package."""
    import ganlab.core.sampling  # noqa: F401  (registers "topk")

    if name in METHODS:
        return
    from importlib import import_module
    from importlib.metadata import entry_points

    for ep in entry_points(group="ganlab.commands"):
        package = ep.value.split(":")[0].rsplit(".", 1)[0]
        if package.startswith("ganlab.") and package != "ganlab.core":
            with contextlib.suppress(Exception):  # a broken optional package must not stop another method
                import_module(package)
                import_module(f"{package}.methods")
        if name in METHODS:
            return


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002  (the legacy global stream is what user code reads)
    torch.manual_seed(seed)


def rng_state(device: torch.device) -> dict[str, Any]:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002
        "torch": torch.get_rng_state(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def lr_factor(step: int, total: int, mode: str, start: int) -> float:
    """Linear decay to 0 at ``total`` from ``start`` (mimicry's schedule); 1 without decay."""
    if mode == "none" or step < start or total <= start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / (total - start))


def images_to_png(images: torch.Tensor, nrow: int | None = None) -> bytes:
    """A grid PNG of images in [-1, 1], or a scatter plot PNG of (N, 2) points."""
    import io

    images = images.detach().float().cpu()
    buf = io.BytesIO()
    if images.ndim == 2:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
        ax.scatter(images[:, 0].numpy(), images[:, 1].numpy(), s=2, alpha=0.5)
        ax.set_aspect("equal")
        fig.savefig(buf, format="png", bbox_inches="tight")
        plt.close(fig)
        return buf.getvalue()
    from PIL import Image
    from torchvision.utils import make_grid

    nrow = nrow or max(1, int(math.sqrt(len(images))))
    grid = make_grid(images.clamp(-1, 1), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
    array = (grid.mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0)).numpy()
    if array.shape[2] == 1:
        array = array[:, :, 0]
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


class _Stream:
    def __init__(self, sampler: Any) -> None:
        self.sampler = sampler


# ------------------------------------------------------------------------------------------------------ trainer
class Trainer:
    """Trains ``method`` (default: ``cfg.method``) on ``cfg`` into ``run_dir`` (default ``cfg.out_dir/cfg.name``).

    ``resume``: ``True`` resumes from the latest checkpoint in the run directory (a fresh start if there is none), a
    path resumes from that file. A checkpoint written under another config is refused unless
    ``allow_config_change``. ``init_from``: start from another run's checkpoint (models, optimisers, EMA, step) with
    this config's method and samplers, e.g. Dia-GAN's phase 2 from its phase-1 checkpoint; the loaded state stays
    available as ``run.init_state`` during ``method.setup``.

    ``dataset``, ``models`` (``(G, D)`` or a function returning them, called after seeding) and ``accelerator`` may
    be passed to skip building them from the config.
    """

    def __init__(
        self,
        cfg: ExperimentConfig,
        method: Method | None = None,
        run_dir: RunDir | str | Path | None = None,
        *,
        resume: bool | str | Path = False,
        allow_config_change: bool = False,
        init_from: str | Path | None = None,
        dataset: Any = None,
        models: tuple[nn.Module, nn.Module] | Callable[[], tuple[nn.Module, nn.Module]] | None = None,
        accelerator: Any = None,
    ) -> None:
        self.cfg = cfg
        self.method = method if method is not None else build_method(cfg.method)
        if run_dir is None:
            run_dir = Path(cfg.out_dir) / cfg.name
        self.run_dir = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)

        if accelerator is None:
            from accelerate import Accelerator
            from accelerate.utils import DistributedDataParallelKwargs

            # broadcast_buffers=False: BN statistics and SN vectors stay per process, as in BigGAN/StudioGAN DDP.
            # Accelerate sets up multi-process CPU (gloo) only when told cpu=True.
            multi_cpu = not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1
            accelerator = Accelerator(
                cpu=multi_cpu, kwargs_handlers=[DistributedDataParallelKwargs(broadcast_buffers=False)]
            )
        self.accelerator = accelerator
        self.device = accelerator.device
        self.rank, self.world_size = accelerator.process_index, accelerator.num_processes
        self.is_main = accelerator.is_main_process

        t, o = cfg.train, cfg.optim
        per_rank, rem = divmod(t.batch_size, self.world_size)
        if rem or per_rank % o.d_accum or per_rank % o.g_accum:
            raise ConfigError(
                f"train.batch_size={t.batch_size} must be divisible by the number of processes ({self.world_size}) "
                f"times optim.d_accum ({o.d_accum}) and times optim.g_accum ({o.g_accum})"
            )
        self.d_batch = per_rank // o.d_accum
        self.g_batch = per_rank // o.g_accum
        self.amp_dtype = {"no": None, "fp16": torch.float16, "bf16": torch.bfloat16}[t.mixed_precision]

        seed_everything(cfg.seed)  # identical initial weights on every process
        self.loss = get_loss(cfg.loss.name)
        self.dataset = dataset if dataset is not None else self._build_dataset()
        if callable(models):
            models = models()  # built after seeding, so the initial weights follow cfg.seed
        G, D = models if models is not None else self._build_models()
        self.z_dim = int(getattr(G, "z_dim", 0) or 0)
        self.num_classes = int(getattr(G, "num_classes", 0) or 0)
        self.models: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.scalers: dict[str, torch.amp.GradScaler] = {}
        self._base_lr: dict[str, float] = {}
        self.G = self.add_model("G", G, o.g_lr, o.g_betas or o.betas)
        self.D = self.add_model("D", D, o.d_lr, o.d_betas or o.betas)
        self.ema = EMA(self.unwrap(self.G), cfg.ema.decay, cfg.ema.start) if cfg.ema.enabled else None
        self.streams: dict[str, _Stream] = {}
        self.step = 0
        self._real_seen = 0  # global number of real instances drawn from the "main" stream
        self._logs: dict[str, list[Any]] = {}
        self._pending_bad: dict[str, torch.Tensor] = {}  # deferred non-finite-loss flags (accelerators)
        self._checked_step = 0
        self._tb = None
        self._tb_off = False
        self._last_ckpt: Path | None = None
        self._phase = ""
        self._fixed = self._fixed_inputs()

        self._check_shapes()
        # Per-process noise from here on (model init above was shared).
        seed_everything(cfg.seed * 1_000_003 + 7919 * (self.rank + 1))

        self.init_state: dict[str, Any] | None = None
        if init_from is not None:
            self.init_state = self._read_checkpoint(Path(init_from))
            self._load_training_state(self.init_state, names=("G", "D"), strict_models=True)
        self.method.setup(self)
        if init_from is not None:
            extra = [n for n in self.models if n not in ("G", "D") and n in self.init_state["models"]]
            self._load_training_state(self.init_state, names=tuple(extra), strict_models=True, ema=False)
        if "main" not in self.streams:
            self.add_stream("main", self.method.sampler(self) or self._uniform_sampler())

        ckpt = self._find_resume(resume)
        if ckpt is not None:
            self._resume(ckpt, allow_config_change)
        if self.is_main:
            self.run_dir.save_config(cfg)

    # --------------------------------------------------------------------------------------------- building
    def _build_dataset(self):
        from ganlab.core.data import get_dataset

        d = self.cfg.data
        return get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)

    def _build_models(self) -> tuple[nn.Module, nn.Module]:
        from ganlab.core.nn import build_backbone

        return build_backbone(self.cfg.model.backbone, **self.cfg.model.options)

    def _uniform_sampler(self):
        from ganlab.core.data.samplers import InfiniteSampler

        return InfiniteSampler(len(self.dataset), seed=self.cfg.seed, rank=self.rank, world_size=self.world_size)

    def _fixed_inputs(self) -> dict[str, torch.Tensor | None]:
        """The fixed z (and labels) of the sample grids, from their own generator so training RNG is untouched."""
        vectors = len(getattr(self.dataset, "shape", ())) == 1
        n = max(self.cfg.train.sample_grid, 1000) if vectors else self.cfg.train.sample_grid
        gen = torch.Generator().manual_seed(self.cfg.seed + 12345)
        z = torch.randn(n, self.z_dim, generator=gen).to(self.device)
        y = (torch.arange(n) % self.num_classes).to(self.device) if self.num_classes else None
        return {"z": z, "label": y}

    def _check_shapes(self) -> None:
        """G's output must have the dataset's item shape (probe in eval mode: no RNG, BN or SN state changes)."""
        want = tuple(getattr(self.dataset, "shape", ()) or ())
        if not want or not self.z_dim:
            return
        # Two z of its own (the grid may be empty); zero instance features for an instance-conditioned G.
        z = torch.randn(2, self.z_dim, generator=torch.Generator().manual_seed(0)).to(self.device)
        y = torch.zeros(2, dtype=torch.long, device=self.device) if self.num_classes else None
        feat_dim = int(getattr(self.unwrap(self.G), "feat_dim", 0) or 0)
        feat = torch.zeros(2, feat_dim, device=self.device) if feat_dim else None
        got = tuple(self.generate(z, y, ema=False, feat=feat).shape[1:])
        if got != want:
            raise ShapeError(
                f"backbone {self.cfg.model.backbone!r} generates samples of shape {got} but dataset "
                f"{self.cfg.data.name!r} holds {want}; set model.options (channels, resolution) or data.resolution "
                "so that they agree"
            )

    # ------------------------------------------------------------------------------------------- run object
    def unwrap(self, module: nn.Module) -> nn.Module:
        """The bare module behind a DDP/compiled wrapper."""
        return self.accelerator.unwrap_model(module)

    def add_model(self, name: str, module: nn.Module, lr: float, betas: tuple[float, float] | None = None) -> nn.Module:
        """Register a trained model with its own Adam optimiser (and GradScaler); returns the (DDP-)wrapped model.

        Every model follows the config's linear LR decay; ``run.optimize(name, loss)`` steps it.
        """
        if name in self.models:
            raise ConfigError(f"a model named {name!r} is already registered")
        o = self.cfg.optim
        with warnings.catch_warnings():
            # Accelerate >= 1.x flags broadcast_buffers as deprecated but keeps it as the way to leave buffers
            # rank-local (its replacement still syncs at init), which is what we want.
            warnings.filterwarnings("ignore", message=".*broadcast_buffers.*", category=FutureWarning)
            wrapped = self.accelerator.prepare_model(module)
        params = [p for p in self.unwrap(wrapped).parameters() if p.requires_grad]
        self.models[name] = wrapped
        self.optimizers[name] = torch.optim.Adam(
            params, lr=lr, betas=tuple(betas or o.betas), eps=o.eps, weight_decay=o.weight_decay
        )
        self.scalers[name] = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16)
        self._base_lr[name] = lr
        return wrapped

    def add_stream(self, name: str, sampler: Any) -> None:
        """A real-data stream drawn by ``sampler`` (``next_indices(k)``, ``state_dict()``), read by ``next_batch``."""
        if name in self.streams:
            raise ConfigError(f"a data stream named {name!r} already exists; use set_sampler to replace its sampler")
        self.streams[name] = _Stream(sampler)

    def set_sampler(self, name: str, sampler: Any) -> None:
        """Replace the sampler of a stream (e.g. a phase change to weighted sampling)."""
        if name not in self.streams:
            self.add_stream(name, sampler)
        self.streams[name].sampler = sampler

    def sampler_of(self, name: str = "main") -> Any:
        return self.streams[name].sampler

    def next_batch(self, name: str = "main", n: int | None = None) -> Batch:
        """This process's next ``n`` real items (default: the D micro-batch) of a stream, on ``run.device``."""
        n = self.d_batch if n is None else int(n)
        stream = self.streams[name]
        idx = np.asarray(stream.sampler.next_indices(n), dtype=np.int64)
        if name == "main":
            self._real_seen += n * self.world_size
        batch = self.dataset.get_batch(idx)
        return {k: (v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in batch.items()}

    @property
    def epoch(self) -> float:
        """Real instances drawn from the main stream (all processes) divided by the dataset size."""
        return self._real_seen / max(len(self.dataset), 1)

    @property
    def G_ema(self) -> nn.Module:
        """The averaged generator (the live G, unwrapped, when EMA is off)."""
        return self.ema.model if self.ema is not None else self.unwrap(self.G)

    def _no_sync(self, module: nn.Module):
        """Skip DDP's gradient all-reduce for this backward (a no-op in one process)."""
        if self.world_size == 1:
            return contextlib.nullcontext()
        return self.accelerator.no_sync(module)

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def log(self, values: dict[str, Any]) -> None:
        """Add values to the next log record (averaged over the steps since the last record).

        Tensors are kept on their device and read once per record, so logging never forces a GPU sync per step.
        """
        for k, v in values.items():
            if isinstance(v, torch.Tensor):
                v = v.detach().float().mean()
            elif not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            self._logs.setdefault(k, []).append(v)

    def _diverged(self, name: str, value: float, where: str) -> TrainingDivergedError:
        last = str(self._last_ckpt) if self._last_ckpt else "none saved yet"
        if self.is_main:
            self.run_dir.log_metrics({"event": "diverged", "step": self.step + 1, "loss": name, "value": value})
        return TrainingDivergedError(
            f"the {name} loss became {value} {where}; training stopped. Last good checkpoint: {last}. Lower the "
            "learning rate, use fp32 (train.mixed_precision=no) or check the data, then resume from that checkpoint."
        )

    def _check_loss(self, name: str, loss: torch.Tensor) -> torch.Tensor:
        """The loss's mean as a detached tensor; a NaN/inf loss stops training with TrainingDivergedError.

        On CPU the check is exact to the step. On an accelerator it is deferred to the next log record, checkpoint
        or the end of training (one sync there instead of one per step); a checkpoint is never written after a
        non-finite loss, so the last good one stays intact.
        """
        value = loss.detach().float().mean()
        if self.device.type == "cpu":
            v = value.item()
            if not math.isfinite(v):
                raise self._diverged(name, v, f"at step {self.step + 1} ({self._phase or 'training'})")
        else:
            bad = ~torch.isfinite(value)
            prev = self._pending_bad.get(name)
            self._pending_bad[name] = bad if prev is None else prev | bad
        return value

    def _raise_if_diverged(self) -> None:
        """Read the deferred non-finite flags (accelerators only) and stop if one was raised."""
        pending, self._pending_bad = self._pending_bad, {}
        for name, bad in pending.items():
            if bool(bad):
                raise self._diverged(name, float("nan"), f"between steps {self._checked_step + 1} and {self.step}")
        self._checked_step = self.step

    def backward(self, name: str, loss: torch.Tensor, inputs: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Backpropagate ``loss`` (scaled for fp16) after checking that it is finite; returns its detached mean."""
        value = self._check_loss(name, loss)
        self.scalers[name].scale(loss).backward(inputs=inputs)
        return value

    def _step_optimizer(self, name: str) -> None:
        opt, scaler = self.optimizers[name], self.scalers[name]
        if name == "G" and self.cfg.optim.orth_reg > 0:
            # BigGAN's orthogonal regularisation acts on G's gradients (G only, shared embedding excluded).
            from ganlab.core.nn import ortho_reg

            scaler.unscale_(opt)
            g = self.unwrap(self.models[name])
            blacklist = g.ortho_blacklist() if hasattr(g, "ortho_blacklist") else ()
            ortho_reg(g, self.cfg.optim.orth_reg, blacklist)
        scaler.step(opt)
        scaler.update()

    def optimize(self, name: str, loss: torch.Tensor) -> None:
        """Backward + step + zero_grad of the model registered as ``name`` (AMP-aware); for extra models."""
        opt = self.optimizers[name]
        params = [p for g in opt.param_groups for p in g["params"]]
        opt.zero_grad(set_to_none=True)
        self.backward(name, loss, inputs=params)
        self._step_optimizer(name)
        opt.zero_grad(set_to_none=True)

    # ------------------------------------------------------------------------------------------------ steps
    def _set_lr(self) -> None:
        o = self.cfg.optim
        f = lr_factor(self.step, self.cfg.train.steps, o.lr_decay, o.lr_decay_start)
        for name, opt in self.optimizers.items():
            for group in opt.param_groups:
                group["lr"] = self._base_lr[name] * f

    def _record(self, logs: dict[str, float]) -> None:
        self.log(logs)

    def d_step(self) -> None:
        """One optimisation step of D over ``d_accum`` micro-batches (sync on the last one only)."""
        self._phase = "D step"
        opt = self.optimizers["D"]
        opt.zero_grad(set_to_none=True)
        accum = self.cfg.optim.d_accum
        real = fake = None
        for micro in range(accum):
            sync = micro == accum - 1
            with contextlib.nullcontext() if sync else self._no_sync(self.D):
                real = self.method.next_real(self)
                with torch.no_grad(), self.autocast():
                    fake = self.method.sample_fake(self, len(real["image"]), real)
                with self.autocast():
                    loss, logs = self.method.d_loss(self, real, fake)
                value = self.backward("D", loss / accum if accum > 1 else loss) * accum
            self._record({"d_loss": value, **(logs or {})})
        self._step_optimizer("D")
        opt.zero_grad(set_to_none=True)
        self.method.after_d_step(self, real, fake)

    def g_step(self) -> None:
        """One optimisation step of G over ``g_accum`` micro-batches; gradients reach G's parameters only."""
        self._phase = "G step"
        opt = self.optimizers["G"]
        opt.zero_grad(set_to_none=True)
        params = [p for g in opt.param_groups for p in g["params"]]
        accum = self.cfg.optim.g_accum
        for micro in range(accum):
            sync = micro == accum - 1
            # D is only a critic here: no DDP gradient sync for it, and backward stops at G's parameters.
            with contextlib.ExitStack() as stack:
                stack.enter_context(self._no_sync(self.D))
                if not sync:
                    stack.enter_context(self._no_sync(self.G))
                with self.autocast():
                    fake = self.method.sample_fake(self, self.g_batch)
                    loss, logs = self.method.g_loss(self, fake)
                value = self.backward("G", loss / accum if accum > 1 else loss, inputs=params) * accum
            self._record({"g_loss": value, **(logs or {})})
        self._step_optimizer("G")
        opt.zero_grad(set_to_none=True)

    def train_step(self) -> None:
        """``n_dis`` D steps, one G step, then EMA and ``on_step_end``."""
        self._set_lr()
        for _ in range(self.cfg.optim.n_dis):
            self.d_step()
        self.g_step()
        self.step += 1
        if self.ema is not None:
            self.ema.update(self.unwrap(self.G), self.step)
        self._phase = "on_step_end"
        self.method.on_step_end(self)

    # ---------------------------------------------------------------------------------------------- the loop
    def fit(self, stop_at: int | None = None) -> dict[str, Any]:
        """Train until ``cfg.train.steps`` (or stop early, checkpointed, after step ``stop_at``); returns a summary."""
        from tqdm.auto import tqdm

        t = self.cfg.train
        end = t.steps if stop_at is None else min(int(stop_at), t.steps)
        start_step = self.step
        pbar = tqdm(total=t.steps, initial=self.step, disable=not (t.progress and self.is_main), desc=self.cfg.name)
        t0 = last_t = time.perf_counter()
        last_step = self.step
        try:
            while self.step < end:
                self.train_step()
                pbar.update(1)
                s = self.step
                if t.log_every and (s % t.log_every == 0 or s == end):
                    now = time.perf_counter()
                    imgs = (s - last_step) * t.batch_size * self.cfg.optim.n_dis  # real images consumed
                    record = self._flush_logs(img_per_s=imgs / max(now - last_t, 1e-9))
                    last_t, last_step = now, s
                    if record:
                        pbar.set_postfix({k: f"{v:.3g}" for k, v in record.items() if k.endswith("loss")})
                if t.sample_every and s % t.sample_every == 0:
                    self.save_samples()
                if t.checkpoint_every and s % t.checkpoint_every == 0:
                    self.save_checkpoint()
                if self.cfg.eval.metrics and self.cfg.eval.every and s % self.cfg.eval.every == 0 and s < t.steps:
                    self.evaluate()
        finally:
            pbar.close()
        wall = time.perf_counter() - t0
        if self._last_ckpt is None or self._step_of(self._last_ckpt) != self.step:
            self.save_checkpoint()
        if t.sample_every and self.step % t.sample_every != 0:
            self.save_samples()
        if self.cfg.eval.metrics and self.step >= t.steps:
            self.evaluate()
        if self._tb is not None:
            self._tb.flush()
        steps = self.step - start_step
        summary = {
            "step": self.step,
            "steps_run": steps,
            "wall_s": wall,
            "img_per_s": steps * t.batch_size * self.cfg.optim.n_dis / max(wall, 1e-9),  # real images per second
            "checkpoint": str(self._last_ckpt) if self._last_ckpt else None,
            "finished": self.step >= t.steps,
        }
        if self.is_main:
            self.run_dir.log_metrics({"event": "fit_end", **summary})
        return summary

    def _flush_logs(self, **extra: float) -> dict[str, float]:
        self._raise_if_diverged()
        record = {
            k: float(torch.stack([torch.as_tensor(x, dtype=torch.float32).to(self.device) for x in v]).mean())
            if any(torch.is_tensor(x) for x in v)
            else float(np.mean(v))
            for k, v in self._logs.items()
            if v
        }
        self._logs = {}
        record.update(extra)
        record["lr_G"] = self.optimizers["G"].param_groups[0]["lr"]
        record["lr_D"] = self.optimizers["D"].param_groups[0]["lr"]
        record["epoch"] = self.epoch
        if self.is_main:
            self.run_dir.log_metrics({"step": self.step, **record})
            if self.cfg.train.tensorboard and not self._tb_off:
                self._tensorboard(record)
        return record

    def _tensorboard(self, record: dict[str, float]) -> None:
        if self._tb is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except Exception:  # tensorboard is optional
                self._tb_off = True
                return
            self._tb = SummaryWriter(str(self.run_dir.path / "tensorboard"))
        for k, v in record.items():
            self._tb.add_scalar(k, v, self.step)

    def evaluate(self) -> list[dict[str, Any]]:
        """``cfg.eval.metrics`` of G_ema (or G) against the training data; records go to metrics.jsonl.

        ``cfg.eval.options`` are passed on to :func:`ganlab.core.metrics.cli.evaluate` (e.g. ``k``,
        ``extractor_options``, ``batch_size``, ``cache_dir``).
        """
        if not self.is_main:
            return []
        from ganlab.core.metrics.cli import evaluate

        e, d = self.cfg.eval, self.cfg.data
        g = self.G_ema
        was_training = g.training
        try:
            records = evaluate(
                g,
                d.name,
                metrics=list(e.metrics),
                split=d.split,
                resolution=d.resolution,
                dataset_options=dict(d.options),
                extractor=e.extractor,
                n_fake=e.n_fake,
                n_real=e.n_real,
                seed=self.cfg.seed,
                device=self.device,
                run_dir=None,
                progress=self.cfg.train.progress,
                **dict(e.options),
            )
        finally:
            g.train(was_training)
        for rec in records:
            self.run_dir.log_metrics({"step": self.step, **rec})
        return records

    @torch.no_grad()
    def generate(
        self, z: torch.Tensor, label: torch.Tensor | None = None, ema: bool = True, feat: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Images from a fixed ``z`` with G_ema (or G) in eval mode; training state is left untouched."""
        g = self.G_ema if (ema and self.ema is not None) else self.unwrap(self.G)
        was_training = g.training
        g.eval()
        try:
            parts = [
                g(
                    z[i : i + 256],
                    y=None if label is None else label[i : i + 256],
                    **({} if feat is None else {"feat": feat[i : i + 256]}),
                )
                for i in range(0, len(z), 256)
            ]
            out = torch.cat(parts)
        finally:
            g.train(was_training)
        return out

    def save_samples(self) -> Path | None:
        """The fixed-z sample grid of the current step as ``samples/step_XXXXXXXX.png`` (main process)."""
        if not self.is_main or self.cfg.train.sample_grid <= 0:
            return None
        feat = None
        if int(getattr(self.unwrap(self.G), "feat_dim", 0) or 0):
            # An instance-conditioned G needs features the trainer does not have: the method may provide them.
            grid_feat = getattr(self.method, "grid_features", None)
            feat = grid_feat(self, len(self._fixed["z"])) if callable(grid_feat) else None
            if feat is None:
                return None
        images = self.generate(self._fixed["z"], self._fixed["label"], feat=feat)
        path = self.run_dir.samples / f"step_{self.step:08d}.png"
        atomic_write_bytes(path, images_to_png(images))
        return path

    # ----------------------------------------------------------------------------------------- checkpoints
    @staticmethod
    def _step_of(path: Path) -> int:
        m = re.search(r"step_(\d+)\.pt$", str(path))
        return int(m.group(1)) if m else -1

    def checkpoints(self) -> list[Path]:
        """This run's checkpoints, oldest first."""
        folder = self.run_dir.checkpoints
        return sorted(folder.glob("step_*.pt"), key=self._step_of) if folder.is_dir() else []

    def _gather(self, obj: Any) -> list[Any]:
        if self.world_size == 1:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly (this process's RNG and samplers are gathered from all ranks)."""
        streams = {
            name: {"class": type(st.sampler).__name__, "state": st.sampler.state_dict()}
            for name, st in self.streams.items()
        }
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step,
            "real_seen": self._real_seen,
            "world_size": self.world_size,
            "config": to_dict(self.cfg),
            "method_name": getattr(self.method, "name", type(self.method).__name__),
            "models": {n: self.unwrap(m).state_dict() for n, m in self.models.items()},
            "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
            "scalers": {n: s.state_dict() for n, s in self.scalers.items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "method": self.method.state_dict(),
            "rng": self._gather(rng_state(self.device)),
            "streams": self._gather(streams),
        }

    def save_checkpoint(self) -> Path:
        """Write ``checkpoints/step_XXXXXXXX.pt`` atomically and keep the last ``train.keep_last``."""
        self._raise_if_diverged()  # never checkpoint weights that a non-finite loss has reached
        state = self.state_dict()  # every rank takes part in the gathers
        path = self.run_dir.checkpoints / f"step_{self.step:08d}.pt"
        if self.is_main:
            atomic_save(state, path)
            keep = max(1, self.cfg.train.keep_last)
            for old in self.checkpoints()[:-keep]:
                old.unlink(missing_ok=True)
            self.run_dir.log_metrics({"event": "checkpoint", "step": self.step, "path": str(path)})
        self.accelerator.wait_for_everyone()
        self._last_ckpt = path
        return path

    @staticmethod
    def _read_checkpoint(path: Path) -> dict[str, Any]:
        if not path.is_file():
            raise CheckpointError(f"checkpoint not found: {path}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:
            raise CheckpointError(
                f"cannot read checkpoint {path} ({type(exc).__name__}: {exc}); the file is corrupt or not a "
                "checkpoint. Delete it to resume from the previous one, or pass another file."
            ) from None
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{path} is not a ganlab trainer checkpoint (format {CHECKPOINT_FORMAT})")
        return state

    def _find_resume(self, resume: bool | str | Path) -> Path | None:
        if resume is False or resume is None:
            return None
        if resume is True or resume == "auto":
            found = self.checkpoints()
            return found[-1] if found else None
        return Path(resume)

    def _load_training_state(
        self, state: dict[str, Any], names: tuple[str, ...], strict_models: bool = True, ema: bool = True
    ) -> None:
        for name in names:
            if name not in state["models"]:
                raise CheckpointError(f"the checkpoint holds no model {name!r} (it has: {', '.join(state['models'])})")
            try:
                self.unwrap(self.models[name]).load_state_dict(state["models"][name], strict=strict_models)
                self.optimizers[name].load_state_dict(state["optimizers"][name])
                if name in state.get("scalers", {}):
                    self.scalers[name].load_state_dict(state["scalers"][name])
            except (RuntimeError, KeyError, ValueError) as exc:
                raise CheckpointError(
                    f"the checkpoint's {name!r} does not fit this model ({exc}); was it written with another backbone?"
                ) from None
        if ema and self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
        elif ema and self.ema is not None:
            self.ema.update(self.unwrap(self.G), -1)  # no average saved: start it from the loaded G
        self.step = int(state["step"])

    def _resume(self, path: Path, allow_config_change: bool) -> None:
        state = self._read_checkpoint(path)
        diff = [
            d
            for d in config_diff(state["config"], self.cfg)
            if not any(d == k or d.startswith(k + ".") or d.startswith(k + ":") for k in RESUME_SAFE_KEYS)
        ]
        if diff and not allow_config_change:
            raise CheckpointError(
                f"refusing to resume from {path}: it was written with a different config:\n  "
                + "\n  ".join(diff)
                + "\nResume with the same config, or pass --allow-config-change (allow_config_change=True)."
            )
        self._load_training_state(state, names=tuple(self.models), ema=True)
        self._real_seen = int(state.get("real_seen", 0))
        self.method.load_state_dict(state.get("method", {}))
        on_resume = getattr(self.method, "on_resume", None)
        if callable(on_resume):
            on_resume(self)
        same_world = int(state.get("world_size", 1)) == self.world_size
        rank = self.rank if same_world else 0
        if not same_world:
            warnings.warn(
                f"resuming a {state.get('world_size')}-process run on {self.world_size} processes: sampler positions "
                "carry over, RNG streams are re-derived, so the run is not bit-identical",
                stacklevel=2,
            )
        for name, saved in state["streams"][rank].items():
            if name not in self.streams:
                continue
            sampler = self.streams[name].sampler
            if type(sampler).__name__ != saved["class"]:
                raise CheckpointError(
                    f"stream {name!r} was drawn by a {saved['class']} when checkpointed but is a "
                    f"{type(sampler).__name__} now; the method must restore it in on_resume()"
                )
            sampler.load_state_dict(saved["state"])
        if same_world:
            set_rng_state(state["rng"][self.rank], self.device)
        self._last_ckpt = path
        if self.is_main:
            self.run_dir.log_metrics({"event": "resume", "step": self.step, "path": str(path), "config_diff": diff})

    def export_generator(self, path: str | Path | None = None) -> Path:
        """A small file with G_ema's (or G's) weights and the config, for ``ganlab sample``."""
        path = Path(path) if path else self.run_dir.path / "G_ema.pt"
        if self.is_main:
            atomic_save({"config": to_dict(self.cfg), "step": self.step, "G": self.G_ema.state_dict()}, path)
        return path

    def summary_line(self) -> str:
        return json.dumps({"step": self.step, "run_dir": str(self.run_dir.path)})


def train(cfg: ExperimentConfig, method: Method | None = None, **kwargs: Any) -> RunDir:
    """Build a :class:`Trainer` (keyword arguments as there), fit it, and return its run directory."""
    trainer = Trainer(cfg, method, **kwargs)
    trainer.fit()
    return trainer.run_dir
