"""StyleGAN2's training recipe (Karras et al. 2020) as the ``stylegan2`` method: hooks of core's one training loop.

* fakes for the D and G steps (and the path-length batch) use style mixing: with probability ``style_mixing`` the ws
  from a second latent replace the first's from a crossover index drawn uniformly in 1 .. num_ws - 1;
* D and G losses are the trainer's (the config must name the non-saturating logistic loss ``ns``);
* lazy R1: after every ``r1_interval``-th finished D step (D steps k * r1_interval, k >= 1), an extra D optimiser
  step on ``gamma / 2 * E ||grad_x D(x)||^2 * r1_interval`` over that step's real batch;
* lazy path length: after every ``pl_interval``-th finished G step, an extra G optimiser step on
  ``pl_weight * E (||J_w^T y|| - a)^2 * pl_interval`` over ``batch / pl_batch_shrink`` fresh fakes, ``a`` the running
  mean of the lengths (decay ``pl_decay``);
* Adam's ``lr`` and ``betas`` of a lazily regularised model are corrected once, in ``setup``, by
  ``c = interval / (interval + 1)`` (``lr * c``, ``beta ** c``); a loaded optimiser (resume, ``init_from``) keeps its
  corrected values;
* the trainer's G EMA gets StyleGAN2's per-step decay ``0.5 ** (B / ema_nimg)`` with a half-life of ``ema_kimg``
  thousand images (optionally ramped up: ``ema_nimg = min(1000 ema_kimg, ema_rampup * images so far)``);
* :func:`truncated_samples`: the truncation trick in W for sampling (needs the tracked average of w);
* ``augment``: ``diffaugment`` (``diffaugment`` policy) or ``ada`` (strength adapted towards ``ada_target``, see
  :mod:`ganlab.core.augment`) on every image D sees (real, fake, R1's reals: R1 differentiates by the image before
  augmentation, as the ADA code does); ADA's strength and counters are in ``state_dict``.

The step counters and the path-length mean are in ``state_dict``, so a resumed run is bit-identical on CPU.
Deliberate differences from the official loop, which orders a step G, G-reg, D, D-reg, EMA: here it is D, D-reg,
G, EMA, G-reg (the trainer's order), so the EMA sees a path-length update one step later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ganlab.core.augment import AdaptiveAugment, check_diffaugment_policy, diff_augment
from ganlab.core.errors import ConfigError
from ganlab.core.nn.stylegan2 import StyleGAN2Generator
from ganlab.core.nn.stylegan2_reg import PathLengthPenalty, ema_beta, lazy_regularization, r1_loss
from ganlab.core.train.method import METHODS, Batch, Method

__all__ = ["StyleGAN2Method", "StyleGAN2Options", "apply_lazy_correction", "truncated_samples"]


@dataclass
class StyleGAN2Options:
    """The StyleGAN2 recipe (defaults: the paper's config F; StyleGAN2-ADA's 'auto' uses gamma 0.0002 res^2 / B)."""

    r1_gamma: float = 10.0  # 0 = no R1
    r1_interval: int = 16
    pl_weight: float = 2.0  # 0 = no path-length regulariser
    pl_interval: int = 4
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2
    style_mixing: float = 0.9
    ema_kimg: float = 10.0  # G EMA half-life in thousands of images; 0 = keep the trainer's fixed ema.decay
    ema_rampup: float = 0.0  # 0 = no ramp-up (paper); StyleGAN2-ADA: 0.05
    augment: str = ""  # "" (none), "diffaugment" or "ada"
    diffaugment: str = "color,translation,cutout"  # DiffAugment's policy (augment: diffaugment)
    ada_target: float = 0.6  # ADA: the wanted E[sign D(real)]
    ada_interval: int = 4  # ADA: D steps between two adjustments of p
    ada_kimg: float = 500.0  # ADA: thousands of images for p to go from 0 to 1
    ada_p: float = 0.0  # ADA: the initial strength

    def __post_init__(self) -> None:
        for name in ("r1_interval", "pl_interval", "pl_batch_shrink"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"method.options.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("r1_gamma", "pl_weight", "ema_kimg", "ema_rampup"):
            if float(getattr(self, name)) < 0:
                raise ConfigError(f"method.options.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.style_mixing <= 1.0:
            raise ConfigError(f"method.options.style_mixing is a probability in [0, 1], got {self.style_mixing}")
        if not 0.0 < self.pl_decay <= 1.0:
            raise ConfigError(f"method.options.pl_decay must lie in (0, 1], got {self.pl_decay}")
        if self.augment not in ("", "diffaugment", "ada"):
            raise ConfigError(f"method.options.augment must be '', 'diffaugment' or 'ada', got {self.augment!r}")
        check_diffaugment_policy(self.diffaugment)

    def adaptive(self) -> AdaptiveAugment | None:
        """ADA's controller when ``augment`` is ``ada``."""
        if self.augment != "ada":
            return None
        return AdaptiveAugment(self.ada_target, self.ada_interval, self.ada_kimg, self.ada_p)


def apply_lazy_correction(run, name: str, interval: int) -> float:
    """Correct model ``name``'s Adam for a regulariser run every ``interval`` steps; returns ``c``.

    Each param group gets ``lr * c`` and ``betas ** c`` once and is marked (``lazy_reg_c``), so an optimiser state
    loaded from a checkpoint, which carries the mark, is not corrected again. The trainer's base LR, from which its
    LR schedule sets ``lr`` every step, is corrected too (it is rebuilt from the config by every new trainer).
    """
    c = interval / (interval + 1)
    for group in run.optimizers[name].param_groups:
        if group.get("lazy_reg_c") is None:
            group["lr"], group["betas"] = lazy_regularization(group["lr"], tuple(group["betas"]), interval)
            group["lazy_reg_c"] = c
    base = getattr(run, "_base_lr", None)  # no public hook for the schedule's base LR: the trainer keeps it here
    if base is not None and name in base:
        base[name] = base[name] * c
    return c


@torch.no_grad()
def truncated_samples(
    G: Any,
    z: torch.Tensor,
    psi: float,
    y: torch.Tensor | None = None,
    feat: torch.Tensor | None = None,
    *,
    cutoff: int | None = None,
    noise_mode: str = "const",
) -> torch.Tensor:
    """Images of a StyleGAN2 generator with the truncation trick in W: ``w_avg + psi (w - w_avg)`` on the first
    ``cutoff`` ws (all when None), G in eval mode (its ``w_avg`` is left as it is)."""
    if not isinstance(G, StyleGAN2Generator):
        raise ConfigError(
            f"truncation in W needs a StyleGAN2 generator (with a tracked average of w), got {type(G).__name__}"
        )
    was = G.training
    G.eval()
    try:
        return G(z, y, feat, truncation_psi=psi, truncation_cutoff=cutoff, noise_mode=noise_mode)
    finally:
        G.train(was)


@METHODS.register("stylegan2")
class StyleGAN2Method(Method):
    """StyleGAN2's recipe on core's trainer (see the module docstring); G must be a StyleGAN2 generator."""

    name = "stylegan2"
    Options = StyleGAN2Options

    def __init__(self, options: StyleGAN2Options | None = None) -> None:
        super().__init__(options)
        o = self.options
        self.pl = PathLengthPenalty(decay=o.pl_decay, weight=o.pl_weight)
        self.d_steps = 0  # finished D steps (main, not counting R1 steps)
        self.g_steps = 0  # finished G steps
        self.r1_steps = 0  # R1 steps taken
        self.pl_steps = 0  # path-length steps taken
        self.ada = o.adaptive()
        self.augment_enabled = True  # False: D sees the images as they are (e.g. a method's diagnostic passes)

    # ------------------------------------------------------------------------------------------------ set-up
    def validate(self, run) -> None:
        G = run.unwrap(run.G)
        if not isinstance(G, StyleGAN2Generator):
            raise ConfigError(
                f"method 'stylegan2' needs a StyleGAN2 generator (model.backbone: stylegan2 or a stylegan2_* preset), "
                f"got {type(G).__name__}"
            )
        if run.cfg.loss.name != "ns":
            raise ConfigError(
                f"method 'stylegan2' trains with the logistic loss: set loss.name=ns (got {run.cfg.loss.name!r})"
            )
        if self.options.ema_kimg > 0 and getattr(run, "ema", None) is None:
            raise ConfigError("method 'stylegan2' sets the G EMA's decay (ema_kimg > 0): set ema.enabled=true")
        if G.feat_dim and type(self).conditions is StyleGAN2Method.conditions:
            raise ConfigError(
                "method 'stylegan2' draws no instance features: an instance-conditioned G needs a method that "
                "overrides conditions()"
            )

    def _intervals(self) -> dict[str, int]:
        """The lazy interval of each regularised model (a model without its regulariser is left uncorrected)."""
        o = self.options
        # The official loop corrects Adam even at weight 0 (its reg phase then steps on nothing); without a reg
        # step there is nothing to correct for, so it is skipped here.
        out = {}
        if o.pl_weight > 0:
            out["G"] = int(o.pl_interval)
        if o.r1_gamma > 0:
            out["D"] = int(o.r1_interval)
        return out

    def setup(self, run) -> None:
        self.pl.to(run.device)
        for name, interval in self._intervals().items():
            apply_lazy_correction(run, name, interval)
        self._set_ema_decay(run)

    def on_resume(self, run) -> None:
        self._set_ema_decay(run)

    def _set_ema_decay(self, run) -> None:
        """The decay of the EMA update that ends the next G step (images shown so far: ``step * batch``)."""
        ema, o = getattr(run, "ema", None), self.options
        if ema is None or o.ema_kimg <= 0:
            return
        batch = run.cfg.train.batch_size
        ema.decay = ema_beta(batch, o.ema_kimg, cur_nimg=run.step * batch, rampup=o.ema_rampup or None)

    # -------------------------------------------------------------------------------------------- sampling
    def conditions(self, run, n: int, real: Batch | None = None) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """``(labels, instance features)`` for ``n`` fakes: uniform labels for a class-conditional G, no features."""
        y = torch.randint(0, run.num_classes, (n,), device=run.device) if run.num_classes else None
        return y, None

    def mixing(self, run, z: torch.Tensor) -> tuple[torch.Tensor | None, int | None]:
        """``(second latent, crossover index)`` with probability ``style_mixing``, else ``(None, None)``."""
        num_ws = run.unwrap(run.G).num_ws
        p = self.options.style_mixing
        if p <= 0 or num_ws < 2 or float(torch.rand(())) >= p:
            return None, None
        cutoff = int(torch.randint(1, num_ws, ()))
        return torch.randn_like(z), cutoff

    def _generate(self, run, n: int, real: Batch | None = None, return_ws: bool = False):
        z = torch.randn(n, run.z_dim, device=run.device)
        y, feat = self.conditions(run, n, real)
        mix_z, cutoff = self.mixing(run, z)
        out = run.G(z, y=y, feat=feat, mix_z=mix_z, mix_cutoff=cutoff, return_ws=return_ws)
        batch: Batch = {"z": z}
        if y is not None:
            batch["label"] = y
        if feat is not None:
            batch["cond"] = feat
        return batch, out

    def sample_fake(self, run, n: int, real: Batch | None = None) -> Batch:
        batch, image = self._generate(run, n, real)
        batch["image"] = image
        return batch

    # ---------------------------------------------------------------------------------------- augmentation
    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """The images as D sees them (``augment`` option); differentiable in ``images``."""
        o = self.options
        if o.augment == "diffaugment":
            return diff_augment(images, o.diffaugment)
        if self.ada is not None:
            return self.ada(images)
        return images

    def d_forward(self, run, batch: Batch, module=None) -> dict[str, torch.Tensor]:
        if self.options.augment and self.augment_enabled:
            batch = {**batch, "image": self.augment(batch["image"])}
        return super().d_forward(run, batch, module)

    def d_loss(self, run, real: Batch, fake: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        """The trainer's D loss on (augmented) real and fake batches; ADA records the signs of the real logits."""
        if self.ada is None:
            return super().d_loss(run, real, fake)
        out_r = self.d_forward(run, real)["adv"]
        out_f = self.d_forward(run, {**fake, "image": fake["image"].detach()})["adv"]
        if self.ada is not None:
            self.ada.observe(out_r)
        loss_r, loss_f = run.loss.d_real(out_r).mean(), run.loss.d_fake(out_f).mean()
        return loss_r + loss_f, {"d_loss_real": loss_r.detach(), "d_loss_fake": loss_f.detach()}

    def _ada_step(self, run) -> None:
        reduce = self._sum_over_processes(run)
        if self.ada.step(reduce):
            run.log({"ada_p": self.ada.p, "ada_rt": self.ada.rt})

    @staticmethod
    def _sum_over_processes(run):
        if int(getattr(run, "world_size", 1)) <= 1 or not torch.distributed.is_initialized():
            return None

        def reduce(t: torch.Tensor) -> torch.Tensor:
            t = t.to(run.device)
            torch.distributed.all_reduce(t)
            return t.cpu()

        return reduce

    # ------------------------------------------------------------------------------------- regularisation
    def after_d_step(self, run, real: Batch, fake: Batch) -> None:
        self.d_steps += 1
        o = self.options
        if self.ada is not None:
            self._ada_step(run)
        if o.r1_gamma > 0 and self.d_steps % o.r1_interval == 0:
            self.r1_step(run, real)

    def r1_step(self, run, real: Batch) -> torch.Tensor:
        """One D optimiser step on the lazy R1 term over ``real``; returns the term (detached)."""
        o = self.options
        x = real["image"].detach().requires_grad_(True)
        logits = self.d_forward(run, {**real, "image": x})["adv"]
        loss = r1_loss(x, logits, o.r1_gamma, o.r1_interval)
        # + 0 * logits: every D parameter takes part in the backward (D's last bias does not reach grad_x D), which
        # DDP's gradient reducer needs; the value is unchanged.
        run.optimize("D", loss + 0 * logits.sum())
        self.r1_steps += 1
        value = loss.detach()
        run.log({"r1_loss": value})
        return value

    def on_step_end(self, run) -> None:
        self.g_steps += 1
        o = self.options
        if o.pl_weight > 0 and self.g_steps % o.pl_interval == 0:
            self.pl_step(run)
        self._sync_w_avg(run)
        self._set_ema_decay(run)

    def pl_step(self, run) -> torch.Tensor:
        """One G optimiser step on the lazy path-length term; returns the term (detached)."""
        o = self.options
        n = max(1, int(getattr(run, "g_batch", run.cfg.train.batch_size)) // o.pl_batch_shrink)
        _, (_, raw, ws) = self._generate(run, n, return_ws=True)
        penalty, lengths = self.pl(raw, ws, reduce=self._mean_over_processes(run))
        loss = penalty * o.pl_weight * o.pl_interval
        run.optimize("G", loss + 0 * raw[:, 0, 0, 0].sum())  # every G parameter in the backward, as for R1
        self.pl_steps += 1
        value = loss.detach()
        run.log({"pl_loss": value, "pl_mean": self.pl.pl_mean.detach().clone(), "pl_length": lengths.mean()})
        return value

    @staticmethod
    def _sync_w_avg(run) -> None:
        """Average G's tracked ``w_avg`` over processes after each step (and copy it into the EMA copy).

        Each process tracks w_avg on its own fakes (buffers are not broadcast); the official code keeps them apart
        and saves the main process's. Averaging (a linear update, so this is the average tracked on the global
        batch) keeps one w_avg on every process, so the checkpoint resumes every process exactly.
        """
        if int(getattr(run, "world_size", 1)) <= 1 or not torch.distributed.is_initialized():
            return
        mapping = run.unwrap(run.G).mapping
        if not mapping.w_avg_beta:
            return
        torch.distributed.all_reduce(mapping.w_avg)
        mapping.w_avg.div_(torch.distributed.get_world_size())
        ema = getattr(run, "ema", None)
        if ema is not None:
            ema.model.mapping.w_avg.copy_(mapping.w_avg)

    @staticmethod
    def _mean_over_processes(run):
        # The official code keeps a per-process mean; averaging it over processes keeps one mean on every process,
        # so the checkpoint (written by the main process) resumes every process exactly.
        if int(getattr(run, "world_size", 1)) <= 1 or not torch.distributed.is_initialized():
            return None

        def reduce(t: torch.Tensor) -> torch.Tensor:
            t = t.clone()
            torch.distributed.all_reduce(t)
            return t / torch.distributed.get_world_size()

        return reduce

    # --------------------------------------------------------------------------------------------- checkpoint
    def state_dict(self) -> dict[str, Any]:
        return {
            "d_steps": self.d_steps,
            "g_steps": self.g_steps,
            "r1_steps": self.r1_steps,
            "pl_steps": self.pl_steps,
            "pl_mean": self.pl.pl_mean.detach().cpu().clone(),
            **({"ada": self.ada.state_dict()} if self.ada is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("d_steps", "g_steps", "r1_steps", "pl_steps"):
            setattr(self, key, int(state.get(key, 0)))
        if "pl_mean" in state:
            self.pl.pl_mean.copy_(torch.as_tensor(state["pl_mean"]).to(self.pl.pl_mean.device))
        if self.ada is not None and "ada" in state:
            self.ada.load_state_dict(state["ada"])
