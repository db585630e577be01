"""An evaluation protocol declared as data: what a paper's numbers are computed with.

A paper config fills in one :class:`EvalProtocol` (YAML, through :func:`ganlab.core.config.load_config`; unknown
keys fail with the valid ones named). It says which evaluation network reads the images (weights, ``transform_input``,
feature layer) and how they are resized, how many fakes are drawn, which real images form the reference and how they
are drawn, the P/R/D/C neighbourhood size and counts, the Inception Score splits, how conditioning labels or stored
instances are drawn for a conditional generator, and which checkpoint is evaluated. ``describe()`` says it in words;
``as_record()`` is the flat dict every result record carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ganlab.core.errors import ConfigError

__all__ = [
    "CheckpointRule",
    "ConditioningSpec",
    "EvalProtocol",
    "NetworkSpec",
    "PRDCSpec",
    "ReferenceSpec",
    "ResizeSpec",
    "default_mode",
]

LOWER_IS_BETTER = ("fid", "kid")
FEATURE_METRICS = ("fid", "kid", "prdc", "pr", "is")  # those of ganlab.core.metrics.evaluate (without torch)
# a metric the checkpoint rule may select on -> the evaluation metric that produces it
SELECTABLE = {
    "fid": "fid",
    "kid": "kid",
    "is": "is",
    "precision": "prdc",
    "recall": "prdc",
    "density": "prdc",
    "coverage": "prdc",
}

_RESIZE_WORDS = {
    "clean": "clean-fid's bicubic antialiased float resize",
    "tf_bilinear": "TensorFlow's bilinear resize",
    "torchvision": "torchvision's resize",
}
_DRAW_WORDS = {
    "random": "drawn at random",
    "class_balanced": "drawn class-balanced",
    "first": "the first ones in dataset order",
}
_LABEL_WORDS = {
    "uniform": "labels drawn uniformly",
    "train_distribution": "labels drawn as the training classes",
    "class_sequential": "labels in equal blocks per class, in class order",
}
_INSTANCE_WORDS = {
    "uniform": "drawn uniformly",
    "class_balanced": "drawn class-balanced",
    "long_tail": "drawn in the reference's class proportions",
}


def default_mode(metric: str) -> Literal["min", "max"]:
    """The direction in which ``metric`` improves: lower for FID and KID, higher for the others."""
    return "min" if metric in LOWER_IS_BETTER else "max"


@dataclass
class NetworkSpec:
    """The evaluation network: a registered extractor (``inception``, ``inception_torchvision``, ...)."""

    name: str = "inception"
    weights: str | None = None  # a weights file or folder; None: the extractor's usual search
    transform_input: bool | None = None  # torchvision Inception-v3 only; None: the extractor's default
    layer: str = "pool"  # the feature layer (the extractor's ``output``)
    options: dict[str, Any] = field(default_factory=dict)  # the extractor's other options (e.g. in_channels)

    def extractor_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = dict(self.options)
        if self.weights is not None:
            opts["weights_path"] = self.weights
        if self.transform_input is not None:
            opts["transform_input"] = self.transform_input
        if self.layer != "pool":
            opts["output"] = self.layer
        return opts


@dataclass
class ResizeSpec:
    """How images reach the network's input size (``size`` None: the network's own size; ``tf_bilinear`` with
    ``size`` None only quantises to uint8, as :func:`ganlab.core.features.resize.protocol_resize` does)."""

    method: Literal["clean", "tf_bilinear", "torchvision", "none"] = "clean"
    size: int | None = 299

    def validate(self) -> None:
        if self.method == "none" and self.size is not None:
            raise ValueError("resize.method 'none' takes no resize.size (write size: null)")
        if self.size is not None and self.size < 1:
            raise ValueError(f"resize.size must be >= 1, got {self.size}")


@dataclass
class ReferenceSpec:
    """The real images the fakes are compared with: a dataset split, how many (None: all), how they are drawn."""

    split: str = "train"
    n: int | None = None
    draw: Literal["all", "random", "class_balanced", "first"] = "all"
    seed: int = 0  # the draw's seed (``random`` and ``class_balanced``)

    def validate(self) -> None:
        if self.draw == "all" and self.n is not None:
            raise ValueError(f"reference.draw 'all' takes no reference.n (got {self.n}); choose a draw for a subset")
        if self.draw != "all" and self.n is None:
            raise ValueError(f"reference.draw {self.draw!r} needs reference.n")
        if self.n is not None and self.n < 1:
            raise ValueError(f"reference.n must be >= 1, got {self.n}")


@dataclass
class PRDCSpec:
    """Precision / recall / density / coverage: ``k`` neighbours, ``n_real`` reals (drawn at random from the
    reference, or from the dataset's ``split`` when given, with ``seed``, None: the run's seed; ``n_real`` None: all
    of them) against the first ``n_fake`` fakes (None: all of them)."""

    k: int = 5
    n_real: int | None = 10000
    n_fake: int | None = 10000
    seed: int | None = None
    split: str | None = None  # None: the reals come from the reference; a split: from that split instead

    def validate(self) -> None:
        if self.k < 1:
            raise ValueError(f"prdc.k must be >= 1, got {self.k}")
        for key in ("n_real", "n_fake"):
            value = getattr(self, key)
            if value is not None and value <= self.k:
                raise ValueError(f"prdc.{key} must exceed prdc.k ({self.k}), got {value}")


@dataclass
class ConditioningSpec:
    """How a conditional generator is fed while sampling: labels (class-conditional G) and stored instances
    (instance-conditioned G, IC-GAN)."""

    labels: Literal["uniform", "train_distribution", "class_sequential"] = "uniform"
    instances: Literal["uniform", "class_balanced", "long_tail"] = "uniform"
    seed_offset: int = 0  # the draws use seed + seed_offset (the seed of the sampled noise is the arm's seed)


@dataclass
class CheckpointRule:
    """Which generator is evaluated: the ``last`` one, the ``best`` by ``metric`` over evaluations every ``every``
    steps (``mode`` None: lower is better for FID and KID, higher otherwise), or both (``best_and_last``, each record
    saying which); ``patience`` > 0 stops a run after that many evaluations without improvement. The periodic
    evaluations are the trainer's (``eval.every``), against the whole training set."""

    choice: Literal["last", "best", "best_and_last"] = "last"
    metric: str = "fid"
    every: int = 0
    mode: Literal["min", "max"] | None = None
    patience: int = 0
    n_fake: int | None = None  # fakes per periodic evaluation (None: the protocol's n_fake)

    @property
    def direction(self) -> Literal["min", "max"]:
        return self.mode or default_mode(self.metric)

    def validate(self) -> None:
        if self.metric not in SELECTABLE:
            raise ValueError(f"checkpoint.metric must be one of {', '.join(SELECTABLE)}, got {self.metric!r}")
        if self.every < 0 or self.patience < 0:
            raise ValueError("checkpoint.every and checkpoint.patience must be >= 0")
        if (self.choice != "last" or self.patience) and self.every < 1:
            raise ValueError(f"checkpoint.choice {self.choice!r} and checkpoint.patience need checkpoint.every >= 1")


@dataclass
class EvalProtocol:
    """Everything that decides a reported number, apart from the generator itself."""

    metrics: list[str] = field(default_factory=lambda: ["fid"])
    network: NetworkSpec = field(default_factory=NetworkSpec)
    resize: ResizeSpec = field(default_factory=ResizeSpec)
    n_fake: int | Literal["reference"] = 10000  # "reference": as many fakes as the reference has images
    reference: ReferenceSpec = field(default_factory=ReferenceSpec)
    prdc: PRDCSpec = field(default_factory=PRDCSpec)
    is_splits: int = 10
    conditioning: ConditioningSpec = field(default_factory=ConditioningSpec)
    checkpoint: CheckpointRule = field(default_factory=CheckpointRule)
    batch_size: int = 100

    def validate(self) -> None:
        for m in self.metrics:
            if m not in FEATURE_METRICS:
                raise ValueError(f"metrics: {m!r} is not one of {', '.join(FEATURE_METRICS)}")
        if isinstance(self.n_fake, int) and self.n_fake < 1:
            raise ValueError(f"n_fake must be >= 1 or 'reference', got {self.n_fake}")
        if self.is_splits < 1:
            raise ValueError(f"is_splits must be >= 1, got {self.is_splits}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")

    # --------------------------------------------------------------------------------------------- counts
    def fake_count(self, n_reference: int) -> int:
        """The number of fakes for a reference of ``n_reference`` images."""
        return int(n_reference) if self.n_fake == "reference" else int(self.n_fake)

    def extractor_options(self) -> dict[str, Any]:
        """Options for :func:`ganlab.core.features.get_extractor` (weights, ``transform_input``, layer, size)."""
        opts = self.network.extractor_options()
        if self.resize.method == "torchvision" and self.resize.size is not None:
            opts["image_size"] = self.resize.size
        return opts

    def check_extractor(self, extractor_resize: str) -> None:
        """Fail when the evaluation network resizes otherwise than the protocol says (``extractor.resize``)."""
        kind = extractor_resize.split("(")[0]
        actual = {
            "clean": "clean",
            "none": "none",
            "bilinear": "torchvision",
            "bicubic": "torchvision",
            "tf_bilinear": "tf_bilinear",  # core.features.resize.resized_extractor in front of the network
        }.get(kind)
        if actual != self.resize.method:
            raise ConfigError(
                f"the protocol declares resize {self.resize.method!r} but {self.network.name!r} resizes with "
                f"{extractor_resize!r}; choose a network that resizes as declared, or declare its resize"
            )

    # ------------------------------------------------------------------------------------------------ words
    def describe_network(self) -> str:
        """The evaluation network and resize in words (the first sentence of :meth:`describe`)."""
        net = self.network
        parts = [f"layer {net.layer}"]
        if net.transform_input is not None:
            parts.append(f"transform_input={net.transform_input}")
        if net.weights:
            parts.append(f"weights {net.weights}")
        if self.resize.method == "none":
            return f"{net.name} features ({', '.join(parts)}), images fed at their own size (no resize)"
        size = f" to {self.resize.size}" if self.resize.size else ""
        if self.resize.method == "tf_bilinear" and not self.resize.size:
            return (
                f"{net.name} features ({', '.join(parts)}), images quantised to uint8 as for TensorFlow's bilinear "
                "resize but fed at their own size (no resize)"
            )
        return (
            f"{net.name} features ({', '.join(parts)}), images resized with {_RESIZE_WORDS[self.resize.method]}{size}"
        )

    def describe(self) -> str:
        """One short paragraph: network, resize, N fake / N real and how they are drawn, checkpoint rule. Without
        metrics (a package that scores its generators otherwise, e.g. by a classifier trained on their samples)
        only the checkpoint rule applies."""
        if not self.metrics:
            return f"No feature metric (the package's own evaluation). {self._describe_checkpoint()}"
        s = [f"Metrics {', '.join(m.upper() for m in self.metrics)} on {self.describe_network()}."]
        ref = self.reference
        n_fake = "As many fakes as reference images" if self.n_fake == "reference" else f"{self.n_fake} fakes"
        if ref.draw == "all":
            s.append(f"{n_fake} against all real images of the {ref.split} split.")
        else:
            drawn = _DRAW_WORDS[ref.draw] + (f", seed {ref.seed}" if ref.draw in ("random", "class_balanced") else "")
            s.append(f"{n_fake} against {ref.n} real images of the {ref.split} split ({drawn}).")
        if "prdc" in self.metrics or "pr" in self.metrics:
            p = self.prdc
            seed = "the run's seed" if p.seed is None else f"seed {p.seed}"
            where = "it" if p.split is None else f"the {p.split} split"
            real = f"the whole {'reference' if p.split is None else p.split + ' split'}"
            if p.n_real is not None:
                real = f"{p.n_real} reals drawn at random from {where} ({seed})"
            fake = "all fakes" if p.n_fake is None else f"the first {p.n_fake} fakes"
            s.append(f"P/R/D/C with k = {p.k}: {real} against {fake}.")
        if "is" in self.metrics:
            s.append(f"IS over {self.is_splits} splits.")
        c = self.conditioning
        s.append(
            f"Class-conditional generators get {_LABEL_WORDS[c.labels]}; instance-conditioned ones, stored instances "
            f"{_INSTANCE_WORDS[c.instances]}."
        )
        s.append(self._describe_checkpoint())
        return " ".join(s)

    def _describe_checkpoint(self) -> str:
        k = self.checkpoint
        best = (
            f"the generator with the best {k.metric.upper()} ({'lowest' if k.direction == 'min' else 'highest'}) "
            f"over evaluations every {k.every} steps"
        )
        rule = {
            "last": "the last generator is evaluated",
            "best": f"{best} is evaluated",
            "best_and_last": f"{best} and the last generator are both evaluated (column checkpoint)",
        }[k.choice]
        if k.patience:
            rule += f"; training stops after {k.patience} evaluations without improvement"
        return rule[0].upper() + rule[1:] + "."

    def as_record(self) -> dict[str, Any]:
        """The flat protocol columns every result record carries (``eval_`` prefixed); without metrics, only the
        checkpoint rule's (no network read the images)."""
        n, r, p, c, k = self.network, self.reference, self.prdc, self.conditioning, self.checkpoint
        rule = {
            "eval_checkpoint": k.choice,
            "eval_select_metric": k.metric if k.choice != "last" else None,
            "eval_select_every": k.every,
            "eval_select_mode": k.direction if k.choice != "last" else None,
            "eval_patience": k.patience,
        }
        if not self.metrics:
            return rule
        return {
            "eval_network": n.name,
            "eval_weights": n.weights,
            "eval_transform_input": n.transform_input,
            "eval_layer": n.layer,
            "eval_resize": self.resize.method,
            "eval_size": self.resize.size,
            "eval_n_fake": self.n_fake,
            "eval_ref_split": r.split,
            "eval_ref_n": r.n,
            "eval_ref_draw": r.draw,
            "eval_ref_seed": r.seed,
            "eval_prdc_k": p.k,
            "eval_prdc_n_real": p.n_real,
            "eval_prdc_n_fake": p.n_fake,
            "eval_prdc_seed": p.seed,
            "eval_prdc_split": p.split,
            "eval_is_splits": self.is_splits,
            "eval_label_draw": c.labels,
            "eval_instance_draw": c.instances,
            **rule,
        }
