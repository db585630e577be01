"""The model contract every ganlab method relies on, adapters for your own modules, and a one-time check.

**Generator**: ``G(z, y=None, feat=None) -> images`` with attributes ``z_dim`` (int), ``num_classes`` (0 = no class
input) and ``feat_dim`` (0 = no instance feature); ``z`` is (B, z_dim), ``y`` (B,) int64 class indices, ``feat``
(B, feat_dim); images are float (B, C, H, W) in [-1, 1] (tanh), or (B, D) vectors for toy data.

**Discriminator**: ``D(x, y=None, feat=None) -> {"adv": (B,), ...}``: ``adv`` the raw logit (no sigmoid); optional
``cls`` (B, num_classes) class logits (ACGAN / GOLD), ``rot`` (B, 4) (SSGAN), ``features`` (B, F). A model that
does not use an input ignores it.

Wrap plain modules instead of rewriting them::

    G = as_generator(my_g, z_dim=128)                        # my_g(z) -> images
    G = as_generator(my_g, z_dim=128, num_classes=10)        # my_g(z, y) -> images
    D = as_discriminator(my_d)                               # my_d(x) -> (B,) or (B, 1) logits
    D = as_discriminator(my_d, heads=("adv", "cls"), num_classes=10)  # my_d(x) -> (logit, class_logits)
    check_models(G, D, data_shape=(3, 32, 32), num_classes=10)       # one clear error per violation

The trainer runs :func:`check_models` once at set-up, before any file is written or any step is taken. A run on
adapted modules records the adapter's options and the wrapped module's class and constructor arguments, so that
``ganlab sample`` / ``ganlab eval`` can rebuild them elsewhere (the contract: :mod:`ganlab.core.train.model_record`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from ganlab.core.errors import GanlabError, ShapeError

from .base import Discriminator, Generator

__all__ = [
    "ContractError",
    "DiscriminatorAdapter",
    "DiscriminatorProtocol",
    "GeneratorAdapter",
    "GeneratorProtocol",
    "as_discriminator",
    "as_generator",
    "check_models",
]


class ContractError(ShapeError):
    """A model or dataset does not follow the ganlab contract; the message says what was expected and how to fix it."""


@runtime_checkable
class GeneratorProtocol(Protocol):
    z_dim: int
    num_classes: int
    feat_dim: int

    def __call__(self, z: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> Any: ...


@runtime_checkable
class DiscriminatorProtocol(Protocol):
    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> Any: ...


_INPUTS = ("y", "feat")


def _inputs(inputs: Sequence[str] | None, uses_y: bool, feat_dim: int, who: str) -> tuple[str, ...]:
    if inputs is None:
        return tuple(n for n, on in (("y", uses_y), ("feat", bool(feat_dim))) if on)
    bad = [n for n in inputs if n not in _INPUTS]
    if bad:
        raise ContractError(f"{who}: inputs may name 'y' and 'feat' (after the first argument), got {bad}")
    return tuple(inputs)


class GeneratorAdapter(Generator):
    """A plain module behind the generator contract (see :func:`as_generator`)."""

    def __init__(
        self,
        module: nn.Module,
        z_dim: int,
        num_classes: int = 0,
        feat_dim: int = 0,
        inputs: Sequence[str] | None = None,
        output_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise ContractError(f"as_generator wraps an nn.Module, got {type(module).__name__}")
        if int(z_dim) < 1:
            raise ContractError(f"as_generator: z_dim must be a positive int (the latent size), got {z_dim!r}")
        self.module = module
        self.z_dim, self.num_classes, self.feat_dim = int(z_dim), int(num_classes), int(feat_dim)
        self.inputs = _inputs(inputs, bool(num_classes), self.feat_dim, "as_generator")
        self.class_input = "y" in self.inputs
        self.output_shape = tuple(int(s) for s in output_shape) if output_shape is not None else None
        if self.output_shape is not None:
            self.channels = self.output_shape[0]
            self.resolution = self.output_shape[-1] if len(self.output_shape) == 3 else 0

    @property
    def wrapped_module(self) -> nn.Module:
        """The module behind the adapter (recorded with the run so that it can be rebuilt)."""
        return self.module

    @property
    def init_kwargs(self) -> dict[str, Any]:
        """The adapter's constructor arguments except the module (what a run records to rebuild it)."""
        shape = list(self.output_shape) if self.output_shape is not None else None
        return {"z_dim": self.z_dim, "num_classes": self.num_classes, "feat_dim": self.feat_dim,
                "inputs": list(self.inputs), "output_shape": shape}  # fmt: skip

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None):
        self._check_z(z)
        y, feat = self._conditions(z.shape[0], y, feat, "G")
        args = [z] + [{"y": y, "feat": feat}[n] for n in self.inputs]
        out = self.module(*args)
        if self.output_shape is not None and torch.is_tensor(out):
            out = out.reshape(z.shape[0], *self.output_shape)
        return out


class DiscriminatorAdapter(Discriminator):
    """A plain module behind the discriminator contract (see :func:`as_discriminator`)."""

    def __init__(
        self,
        module: nn.Module,
        heads: Sequence[str] = ("adv",),
        num_classes: int = 0,
        feat_dim: int = 0,
        inputs: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise ContractError(f"as_discriminator wraps an nn.Module, got {type(module).__name__}")
        heads = tuple(heads)
        if not heads or heads[0] != "adv" or len(set(heads)) != len(heads):
            raise ContractError(f"as_discriminator: heads must start with 'adv' and be distinct, got {heads}")
        if "cls" in heads and int(num_classes) < 1:
            raise ContractError("as_discriminator: a 'cls' head needs num_classes (the number of class logits)")
        self.module, self.heads = module, heads
        self.num_classes, self.feat_dim = int(num_classes), int(feat_dim)
        self.inputs = _inputs(inputs, False, self.feat_dim, "as_discriminator")
        self.class_input = "y" in self.inputs  # a projection D reads y; an ACGAN D predicts it

    @property
    def wrapped_module(self) -> nn.Module:
        """The module behind the adapter (recorded with the run so that it can be rebuilt)."""
        return self.module

    @property
    def init_kwargs(self) -> dict[str, Any]:
        """The adapter's constructor arguments except the module (what a run records to rebuild it)."""
        return {"heads": list(self.heads), "num_classes": self.num_classes, "feat_dim": self.feat_dim,
                "inputs": list(self.inputs)}  # fmt: skip

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None):
        y, feat = self._conditions(x.shape[0], y, feat, "D")
        out = self.module(x, *[{"y": y, "feat": feat}[n] for n in self.inputs])
        if isinstance(out, dict):
            res = dict(out)
        elif torch.is_tensor(out):
            res = {self.heads[0]: out}
        elif isinstance(out, (tuple, list)):
            if len(out) != len(self.heads):
                raise ContractError(
                    f"D returned {len(out)} outputs but heads={self.heads} names {len(self.heads)}; declare one "
                    "name per output, in order"
                )
            res = dict(zip(self.heads, out))
        else:
            raise ContractError(f"D returned a {type(out).__name__}; expected a tensor, a tuple of tensors or a dict")
        adv = res.get("adv")
        if torch.is_tensor(adv) and adv.ndim == 2 and adv.shape[1] == 1:
            res["adv"] = adv[:, 0]
        return res


def as_generator(
    module: nn.Module,
    *,
    z_dim: int,
    num_classes: int = 0,
    feat_dim: int = 0,
    inputs: Sequence[str] | None = None,
    output_shape: Sequence[int] | None = None,
) -> GeneratorAdapter:
    """Wrap ``module`` as a ganlab generator.

    ``module`` is called as ``module(z, *inputs)``: by default ``y`` follows z when ``num_classes`` > 0 and ``feat``
    when ``feat_dim`` > 0; pass ``inputs=("feat",)`` (say) to choose. ``output_shape=(C, H, W)`` reshapes a flat
    output. A module that already follows the contract is returned as it is only if you skip this adapter.
    """
    return GeneratorAdapter(module, z_dim, num_classes, feat_dim, inputs, output_shape)


def as_discriminator(
    module: nn.Module,
    *,
    heads: Sequence[str] = ("adv",),
    num_classes: int = 0,
    feat_dim: int = 0,
    inputs: Sequence[str] | None = None,
) -> DiscriminatorAdapter:
    """Wrap ``module`` as a ganlab discriminator.

    ``heads`` names the module's outputs in order (a single tensor is ``adv``; a (B, 1) logit is flattened), e.g.
    ``("adv", "cls")`` for an ACGAN D returning ``(logit, class_logits)``: class heads are declared, never guessed.
    ``inputs=("y",)`` for a projection D that reads the label, ``("feat",)`` for an instance-conditioned one.
    """
    return DiscriminatorAdapter(module, heads, num_classes, feat_dim, inputs)


# --------------------------------------------------------------------------------------------------- checking
def _fail(who: str, expected: str, got: str, fix: str) -> ContractError:
    return ContractError(f"{who}: expected {expected}, got {got}. Fix: {fix}")


def _call(module: nn.Module, who: str, fix: str, *args: Any, **kwargs: Any) -> Any:
    try:
        with torch.no_grad():
            return module(*args, **kwargs)
    except ContractError:
        raise
    except GanlabError as exc:  # the model's own clear message (a ganlab backbone)
        raise ContractError(f"{who}: {exc}") from None
    except TypeError as exc:
        raise _fail(who, "forward(x, y=None, feat=None)", f"TypeError: {exc}", fix) from None
    except (RuntimeError, ValueError, IndexError) as exc:
        shapes = ", ".join(
            f"{k}={tuple(v.shape)}" for k, v in {"input": args[0], **kwargs}.items() if torch.is_tensor(v)
        )
        raise ContractError(
            f"{who}: calling it with {shapes} failed: {type(exc).__name__}: {exc}. Fix: {fix}"
        ) from None


def check_models(
    G: nn.Module,
    D: nn.Module | None = None,
    *,
    data_shape: Sequence[int],
    num_classes: int = 0,
    real: torch.Tensor | None = None,
    heads: Sequence[str] = ("adv",),
    device: torch.device | str | None = None,
) -> None:
    """Run G and D once on a batch of two (eval mode, no grad) and raise one :class:`ContractError` per violation.

    ``data_shape``: the shape of one training item; ``num_classes``: the dataset's (0 = unlabelled); ``real``: two
    real items to feed D (default: G's samples); ``heads``: the D outputs the method needs (e.g. ``("adv", "cls")``).
    """
    want = tuple(int(s) for s in data_shape)
    wrap_g = "wrap it: G = ganlab.core.nn.as_generator(G, z_dim=..., num_classes=...)"
    wrap_d = "wrap it: D = ganlab.core.nn.as_discriminator(D, heads=(...))"
    if not isinstance(G, nn.Module):
        raise _fail("G", "an nn.Module", type(G).__name__, wrap_g)
    z_dim = getattr(G, "z_dim", None)
    if not isinstance(z_dim, int) or isinstance(z_dim, bool) or z_dim < 1:
        raise _fail("G", "an int attribute z_dim >= 1 (the latent size)", f"z_dim={z_dim!r}", wrap_g)
    g_classes = int(getattr(G, "num_classes", 0) or 0)
    if not getattr(G, "uses_class_input", bool(g_classes)):
        g_classes = 0  # e.g. BigGAN's constant conditioning: the labels of the data are not read
    feat_dim = int(getattr(G, "feat_dim", 0) or 0)
    if g_classes and not num_classes:
        raise _fail(
            "G",
            "an unconditional generator for an unlabelled dataset",
            f"num_classes={g_classes}",
            "train on labelled data (labels= / num_classes= in from_torch) or build G with num_classes=0",
        )
    if g_classes and num_classes and g_classes != num_classes:
        raise _fail(
            "G",
            f"num_classes={num_classes} (the dataset's)",
            f"num_classes={g_classes}",
            "build G for the dataset's number of classes",
        )
    device = torch.device(device) if device is not None else next(iter(G.parameters()), torch.zeros(())).device
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(2, z_dim, generator=gen).to(device)
    y = torch.zeros(2, dtype=torch.long, device=device) if (g_classes or num_classes) else None
    feat = torch.zeros(2, feat_dim, device=device) if feat_dim else None
    was = G.training
    G.eval()
    try:
        out = _call(G, "G", wrap_g, z, y=y, feat=feat)
    finally:
        G.train(was)
    if not torch.is_tensor(out):
        raise _fail("G", "a tensor of samples", type(out).__name__, "return the images (B, C, H, W) from forward")
    if tuple(out.shape) != (2, *want):
        raise _fail(
            "G",
            f"samples of shape (B, {', '.join(map(str, want))}) (the dataset's items)",
            f"{tuple(out.shape)}",
            "make G's output match the data (channels, resolution), or pass output_shape= to as_generator",
        )
    if not out.is_floating_point() or not bool(torch.isfinite(out).all()):
        raise _fail("G", "finite floating-point samples", f"dtype {out.dtype} with non-finite values", "check G")
    if D is None:
        return
    if not isinstance(D, nn.Module):
        raise _fail("D", "an nn.Module", type(D).__name__, wrap_d)
    x = real.to(device) if real is not None else out
    was = D.training
    D.eval()
    try:
        d_out = _call(D, "D", wrap_d, x[:2], y=y, feat=feat)
    finally:
        D.train(was)
    if torch.is_tensor(d_out) or isinstance(d_out, (tuple, list)):
        raise _fail("D", 'a dict {"adv": (B,) logits, ...}', f"a {type(d_out).__name__}", wrap_d)
    if not isinstance(d_out, dict) or "adv" not in d_out:
        keys = ", ".join(map(str, d_out)) if isinstance(d_out, dict) else type(d_out).__name__
        raise _fail("D", 'a dict with key "adv"', f"{keys}", "return {'adv': logits} or " + wrap_d)
    adv = d_out["adv"]
    if not torch.is_tensor(adv) or tuple(adv.shape) != (2,):
        got = tuple(adv.shape) if torch.is_tensor(adv) else type(adv).__name__
        raise _fail("D", "adv of shape (B,) (one raw logit per item)", f"{got}", "flatten it, or " + wrap_d)
    for head in heads:
        if head == "adv":
            continue
        if head not in d_out:
            raise _fail(
                "D",
                f"a {head!r} head (the method needs it)",
                f"keys {', '.join(d_out)}",
                f"declare it: as_discriminator(D, heads=('adv', '{head}'), num_classes=...)",
            )
        if head == "cls":
            shape = tuple(d_out["cls"].shape)
            if shape != (2, num_classes):
                raise _fail(
                    "D",
                    f"cls of shape (B, {num_classes}) (class logits)",
                    f"{shape}",
                    "give D one logit per dataset class",
                )
    if not bool(torch.isfinite(adv).all()):
        raise _fail("D", "finite logits", "NaN or inf", "check D's initialisation")
