"""The one training loop every method runs through (Accelerate; CPU, one GPU or several with DDP).

Per G step (``run.step`` counts finished G steps):

1. ``n_dis`` times: zero D's gradients; for each of ``d_accum`` micro-batches draw a real batch
   (``method.next_real``) and a fake batch (``method.sample_fake``, no gradient into G), compute
   ``method.d_loss`` and backpropagate (DDP gradient sync only on the last micro-batch); step D;
   ``method.after_d_step``.
2. zero G's gradients; for each of ``g_accum`` micro-batches: ``method.sample_fake`` then ``method.g_loss``,
   backpropagated into G's parameters only; step G.
3. ``run.step += 1``; EMA update; ``method.on_step_end``; logging, sample grid, evaluation and checkpoint when due.

Before anything is written, the trainer builds or adapts the dataset and models, runs the model contract check
(:func:`ganlab.core.nn.check_models`), the method's own ``validate`` and the resume checks; only then does it take
the run directory's one-writer lock (the data and contract checks: :mod:`ganlab.core.train.validation`; a
rejection after the lock removes a directory the set-up created). A run on your own modules records how to rebuild
them (:mod:`ganlab.core.train.model_record`); a ``fit`` stopped by an error writes ``failed.json`` with the reason.
Mixed precision is plain ``torch.autocast`` with one GradScaler per model
(fp16), since Accelerate keeps only one scaler. Checkpoints (:mod:`ganlab.core.train.checkpoint`) hold models,
optimisers, GradScalers, EMA, the method's state, the config, the step, the pending log window and, for every
process, the RNG states and every stream's sampler state; resuming on CPU is bit-identical, metrics.jsonl included.
"""

from __future__ import annotations

import contextlib
import copy
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganlab.core.errors import ConfigError, TrainingDivergedError
from ganlab.core.fileio import atomic_write_bytes, remove_stale_temps
from ganlab.core.images import images_to_png
from ganlab.core.losses import get_loss
from ganlab.core.results import RunDir
from ganlab.core.train import checkpoint as ckpt
from ganlab.core.train.build import build_dataset, build_method, build_models, method_config, prepare_dataset
from ganlab.core.train.checkpointing import FAILED_FILE, Checkpointing
from ganlab.core.train.config import ExperimentConfig
from ganlab.core.train.ema import EMA
from ganlab.core.train.evaluation_schedule import BestSelector
from ganlab.core.train.logbook import Logbook, LossGuard
from ganlab.core.train.method import Batch, Method
from ganlab.core.train.model_record import model_skeletons, record_models
from ganlab.core.train.seeding import seed_everything
from ganlab.core.train.signals import restore_sigterm, sigterm_raises
from ganlab.core.train.streams import Streams
from ganlab.core.train.validation import check_config, check_run

__all__ = ["Trainer", "lr_factor", "train"]


def lr_factor(step: int, total: int, mode: str, start: int) -> float:
    """Linear decay to 0 at ``total`` from ``start`` (mimicry's schedule); 1 without decay."""
    if mode == "none" or step < start or total <= start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / (total - start))


def _is_ganlab_backbone(G: nn.Module) -> bool:
    from ganlab.core.nn import Generator
    from ganlab.core.nn.protocol import GeneratorAdapter

    return isinstance(G, Generator) and not isinstance(G, GeneratorAdapter)


class Trainer(Checkpointing):
    """Trains ``method`` (default: ``cfg.method``) on ``cfg`` into ``run_dir`` (default ``cfg.out_dir/cfg.name``).

    ``resume``: ``True`` resumes from the run's latest checkpoint (an error if there is none), ``"auto"`` resumes
    when there is one and starts fresh otherwise, a path resumes from that file. A fresh start into a run directory
    that already holds checkpoints is refused. A checkpoint written under another config is refused unless
    ``allow_config_change`` (changes that cannot alter training, and more steps without an LR schedule, are allowed:
    see ``checkpoint.RESUME_SAFE_KEYS``). ``init_from``: start from another run's checkpoint (models, optimisers,
    EMA, step) with this config's method and samplers, e.g. Dia-GAN's phase 2 from its phase-1 checkpoint; the
    loaded state stays available as ``run.init_state`` during ``method.setup``.

    ``dataset`` (a ganlab dataset, or any map-style torch dataset, adapted by ``ganlab.core.data.from_torch``),
    ``models`` (``(G, D)`` or a function returning them, called after seeding; your own modules wrapped by
    ``ganlab.core.nn.as_generator`` / ``as_discriminator``) and ``accelerator`` may be passed instead of being built
    from the config. A run on your own modules records ``model.backbone: custom``.
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
        check_config(cfg)  # also a config built or edited in Python (train.steps = 0)
        self.method = method if method is not None else build_method(cfg.method)
        if method is not None and method_config(method) != cfg.method:  # the record names what really trains
            cfg = copy.deepcopy(cfg)
            cfg.method = method_config(method)
        self.cfg = cfg
        if run_dir is None:
            run_dir = Path(cfg.out_dir) / cfg.name
        self.run_dir = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
        self.accelerator = accelerator if accelerator is not None else self._accelerator()
        self.device = self.accelerator.device
        self.rank, self.world_size = self.accelerator.process_index, self.accelerator.num_processes
        self.is_main = self.accelerator.is_main_process
        if self.is_main:  # a second writer fails at once; the lock is the main process's (other ranks never hold it)
            self.run_dir.check_unlocked()

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
        self.dataset = prepare_dataset(dataset, cfg) if dataset is not None else build_dataset(cfg)
        if callable(models):
            models = models()  # built after seeding, so the initial weights follow cfg.seed
        G, D = models if models is not None else build_models(cfg)
        if models is not None and not _is_ganlab_backbone(G):
            self.cfg = cfg = copy.deepcopy(cfg)  # the caller's config is left as it was
            cfg.model.backbone, cfg.model.options = ckpt.CUSTOM_BACKBONE, {}
        self.z_dim = int(getattr(G, "z_dim", 0) or 0)
        self.num_classes = int(getattr(G, "num_classes", 0) or 0)
        self.models: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.scalers: dict[str, torch.amp.GradScaler] = {}
        self._base_lr: dict[str, float] = {}
        self.G = self.add_model("G", G, o.g_lr, o.g_betas or o.betas)
        self.D = self.add_model("D", D, o.d_lr, o.d_betas or o.betas)
        check_run(self)  # the data, the batch size and the model contract (ganlab.core.train.validation)
        self._skeletons: dict[str, nn.Module] = {}
        if models is not None and cfg.model.backbone == ckpt.CUSTOM_BACKBONE:  # how another process rebuilds G, D
            cfg.model.options = record_models(G, D)
            self._skeletons = model_skeletons(cfg.model.options, G, D)
        self.ema = EMA(self.unwrap(self.G), cfg.ema.decay, cfg.ema.start) if cfg.ema.enabled else None
        self.streams = Streams(self.dataset, self.device)
        self.step = 0
        self._real_seen = 0  # global number of real instances drawn from the "main" stream
        self.logbook = Logbook(self.run_dir, self.device, is_main=self.is_main, tensorboard=t.tensorboard)
        self.guard = LossGuard(self.device)
        self._last_ckpt: Path | None = None
        self._phase = ""
        self._fixed = self._fixed_inputs()
        # Per-process noise from here on (model init above was shared).
        seed_everything(cfg.seed * 1_000_003 + 7919 * (self.rank + 1))

        # Everything that can reject the run is checked before the run directory is touched.
        self.init_state = ckpt.read_checkpoint(Path(init_from)) if init_from is not None else None
        resume_path = self.resume_path = self._find_resume(resume)  # methods read it (set-up records written once)
        resume_state = ckpt.read_checkpoint(resume_path) if resume_path is not None else None
        self._config_diff = self._check_resume(resume_state, resume_path, allow_config_change)
        validate = getattr(self.method, "validate", None)
        if callable(validate):
            validate(self)
        if self.init_state is not None:
            self._load_training_state(self.init_state, names=("G", "D"))
        if resume_state is not None:  # a checkpoint that does not fit the models is refused before any write
            self._load_training_state(resume_state, names=("G", "D"), ema=False)
        with self._undo_on_failure():
            self._setup(resume_state, resume_path)

    def _setup(self, resume_state: dict[str, Any] | None, resume_path: Path | None) -> None:
        cfg = self.cfg
        if self.is_main:  # the run directory is ours from here on
            self.run_dir.lock()
            remove_stale_temps(self.run_dir.path)
            remove_stale_temps(self.run_dir.checkpoints)
            # a resumed run rewrites what came after its checkpoint; a fresh one drops an aborted run's records
            self.run_dir.truncate_metrics(int(resume_state["step"]) if resume_state is not None else 0)
        self.method.setup(self)
        if self.init_state is not None:
            extra = [n for n in self.models if n not in ("G", "D") and n in self.init_state["models"]]
            self._load_training_state(self.init_state, names=tuple(extra), ema=False)
        if "main" not in self.streams:
            self.add_stream("main", self.method.sampler(self) or self._uniform_sampler())
        if resume_state is not None:
            self._resume(resume_state, resume_path)
        self.best = BestSelector.attach(self)  # eval.select_best: the best evaluated generator, kept as its own file
        if self.is_main:
            self.run_dir.save_config(cfg)

    # --------------------------------------------------------------------------------------------- building
    def _accelerator(self):
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs

        # broadcast_buffers=False: BN statistics and SN vectors stay per process, as in BigGAN/StudioGAN DDP.
        # Accelerate sets up multi-process CPU (gloo) only when told cpu=True.
        from ganlab.core.processes import accelerator_cpu_flag

        cpu = accelerator_cpu_flag()
        return Accelerator(cpu=cpu, kwargs_handlers=[DistributedDataParallelKwargs(broadcast_buffers=False)])

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
        if not isinstance(module, nn.Module):
            from ganlab.core.nn.protocol import ContractError

            raise ContractError(f"model {name!r} must be an nn.Module, got {type(module).__name__}")
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
        self.streams.add(name, sampler)

    def set_sampler(self, name: str, sampler: Any) -> None:
        """Replace the sampler of a stream (e.g. a phase change to weighted sampling)."""
        self.streams.set(name, sampler)

    def sampler_of(self, name: str = "main") -> Any:
        return self.streams.samplers[name]

    def next_batch(self, name: str = "main", n: int | None = None) -> Batch:
        """This process's next ``n`` real items (default: the D micro-batch) of a stream, on ``run.device``."""
        n = self.d_batch if n is None else int(n)
        if name == "main":
            self._real_seen += n * self.world_size
        return self.streams.next(name, n)

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
        self.logbook.add(values)

    def _last_good(self) -> str:
        found = ckpt.list_checkpoints(self.run_dir.checkpoints)
        return f"{found[-1]} (checked finite when written)" if found else "none saved yet"

    def _diverged(self, what: str, where: str) -> TrainingDivergedError:
        if self.is_main:
            self.run_dir.log_event({"event": "diverged", "step": self.step, "what": what, "where": where})
        found = ckpt.list_checkpoints(self.run_dir.checkpoints)
        then = (
            f"then continue from that checkpoint: `{self.resume_command('--allow-config-change')}` with the changed "
            "settings as key=value"
            if found
            else "then start the run again"
        )
        return TrainingDivergedError(
            f"{what} {where}; training stopped. Last good checkpoint: {self._last_good()}. Lower the learning rate, "
            f"use fp32 (train.mixed_precision=no) or check the data, {then}."
        )

    def _raise_if_diverged(self) -> None:
        start = self.guard.checked_step
        name = self.guard.first_bad(self.step)
        if name is not None:
            raise self._diverged(f"the {name} loss became non-finite", f"between steps {start + 1} and {self.step}")

    def backward(self, name: str, loss: torch.Tensor, inputs: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Backpropagate ``loss`` (scaled for fp16) after checking that it is finite; returns its detached mean."""
        value, bad = self.guard.check(name, loss)
        if bad is not None:
            raise self._diverged(f"the {name} loss became {bad}", f"at step {self.step + 1} ({self._phase})")
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
            self.log({"d_loss": value, **(logs or {})})
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
            self.log({"g_loss": value, **(logs or {})})
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
        """Train until ``cfg.train.steps`` (or stop early, checkpointed, after step ``stop_at``); returns a summary.

        Logs every ``log_every`` steps and at the last step, samples every ``sample_every``, evaluates every
        ``eval.every`` and at the end, checkpoints every ``checkpoint_every`` and at the end (or at ``stop_at``).
        """
        from tqdm.auto import tqdm

        t = self.cfg.train
        end = t.steps if stop_at is None else min(int(stop_at), t.steps)
        start_step = self.step
        if self.is_main:
            self.run_dir.lock()
            (self.run_dir.path / FAILED_FILE).unlink(missing_ok=True)  # taken up again
        pbar = tqdm(total=t.steps, initial=self.step, disable=not (t.progress and self.is_main), desc=self.cfg.name)
        t0 = time.perf_counter()
        self._window = (t0, self.step)
        e = self.cfg.eval
        sigterm = sigterm_raises()  # a SIGTERM stops the run as Ctrl-C does: failed.json written, lock released
        try:
            while self.step < end:
                self.train_step()
                pbar.update(1)
                s = self.step
                if t.log_every and (s % t.log_every == 0 or s == t.steps):
                    record = self._flush_logs()
                    pbar.set_postfix({k: f"{v:.3g}" for k, v in record.items() if k.endswith("loss")})
                if t.sample_every and s % t.sample_every == 0:
                    self.save_samples()
                if e.metrics and e.every and s % e.every == 0 and s < t.steps:
                    self.evaluate()
                if t.checkpoint_every and s % t.checkpoint_every == 0 and s < t.steps:
                    self.save_checkpoint()
            wall = time.perf_counter() - t0
            finished = self.step >= t.steps
            if finished and self._last_ckpt_step() != self.step:
                if t.sample_every and self.step % t.sample_every != 0:
                    self.save_samples()
                if e.metrics:
                    self.evaluate()
            if self._last_ckpt_step() != self.step:
                self.save_checkpoint()
        except BaseException as exc:
            self._mark_failed(exc)
            raise
        finally:
            restore_sigterm(sigterm)
            pbar.close()
            self.logbook.close()
            if self.is_main:
                self.run_dir.unlock()
        steps = self.step - start_step
        summary = {
            "step": self.step,
            "steps_run": steps,
            "wall_s": wall,
            "img_per_s": steps * t.batch_size * self.cfg.optim.n_dis / max(wall, 1e-9),  # real images per second
            "checkpoint": str(self._last_ckpt) if self._last_ckpt else None,
            "finished": finished,
            **(self.best.summary() if self.best is not None else {}),
        }
        if self.is_main:
            self.run_dir.log_event({"event": "fit_end", **summary})
        return summary

    def _last_ckpt_step(self) -> int:
        return ckpt.step_of(self._last_ckpt) if self._last_ckpt is not None else -1

    def _flush_logs(self) -> dict[str, float]:
        self._raise_if_diverged()
        extra: dict[str, Any] = {}
        if self.cfg.train.log_speed:
            now = time.perf_counter()
            t_prev, s_prev = self._window
            imgs = (self.step - s_prev) * self.cfg.train.batch_size * self.cfg.optim.n_dis  # real images consumed
            extra["img_per_s"] = imgs / max(now - t_prev, 1e-9)
            self._window = (now, self.step)
        extra["lr_G"] = self.optimizers["G"].param_groups[0]["lr"]
        extra["lr_D"] = self.optimizers["D"].param_groups[0]["lr"]
        extra["epoch"] = self.epoch
        return self.logbook.flush(self.step, extra)

    def evaluate(self) -> list[dict[str, Any]]:
        """``cfg.eval.metrics`` of G_ema (or G) against the training data; records go to metrics.jsonl.

        ``cfg.eval.options`` are passed on to :func:`ganlab.core.metrics.evaluate.evaluate` (e.g. ``k``,
        ``extractor_options``, ``batch_size``, ``cache_dir``).
        """
        if not self.is_main:
            return []
        from ganlab.core.metrics.evaluate import evaluate

        e, d = self.cfg.eval, self.cfg.data
        g = self.G_ema
        was_training = g.training
        try:
            records = evaluate(
                g,
                self.dataset,
                metrics=list(e.metrics),
                split=d.split,
                resolution=d.resolution,
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
        if self.best is not None:
            self.best.update(self, records)
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
            feat = self.method.grid_features(self, len(self._fixed["z"]))
            if feat is None:
                return None
        images = self.generate(self._fixed["z"], self._fixed["label"], feat=feat)
        path = self.run_dir.samples / f"step_{self.step:08d}.png"
        atomic_write_bytes(path, images_to_png(images))
        return path

    def close(self) -> None:
        """Release the run directory (also done at the end of every ``fit``)."""
        if self.is_main:
            self.run_dir.unlock()

    def __enter__(self) -> Trainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def train(cfg: ExperimentConfig, method: Method | None = None, **kwargs: Any) -> RunDir:
    """Build a :class:`Trainer` (keyword arguments as there), fit it, and return its run directory."""
    trainer = Trainer(cfg, method, **kwargs)
    trainer.fit()
    return trainer.run_dir
