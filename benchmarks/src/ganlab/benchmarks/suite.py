"""Suites: settings (data × backbone × budget × metric protocol) × methods (lists of parts) × seeds, from YAML.

A suite file (package data under ``suites/``, or any path)::

    name: quick
    seeds: [0, 1, 2]
    settings:
      mnist:                           # one dataset with its backbone, budget and protocol
        run: {data: {name: mnist5k, resolution: 28}, model: {...}, optim: {...}, train: {...}}
        conditional: {num_classes: 10}  # model options a class-conditional method adds
        protocol: {extractor: {arch: lenet, epochs: 3}, metrics: [fid, prdc], n_fake: 2000}
    methods:
      vanilla: {parts: []}
      is+diagan: {parts: [{instance_selection: {retention_ratio: 50}}, diagan]}
      gold: {parts: [gold], baseline: gold_off, settings: [mnist]}

The same ``run`` (G/D, steps, batch, optimiser) serves every method of a setting; a method changes only what its
parts change. ``baseline`` names the method a method's paired differences are taken against.

A setting's ``protocol:`` section is converted, in :meth:`ProtocolSpec.eval_protocol` only, into core's
:class:`~ganlab.core.evaluation.protocol.EvalProtocol` (the object every package's reproductions use): the network
(the in-domain classifier the setting trains, ``<arch>_indomain``, or a named pretrained extractor), its resize, the
number of fakes, the reference (every image of the training split) and the P/R/D/C reals, k and counts. The cells
evaluate through it, every result record carries its ``as_record()`` columns and the summary its ``describe()``.
A method whose sampler draws its labels otherwise (GOLD rejection: n / classes per class, class after class) gets
the setting's protocol with that draw (:meth:`Suite.eval_protocol`), in its records and in the summary.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ganlab.core.config import apply_overrides, from_dict, read_yaml
from ganlab.core.errors import ConfigError
from ganlab.core.evaluation.protocol import EvalProtocol, ResizeSpec
from ganlab.core.registry import closest

__all__ = ["ExtractorSpec", "MethodSpec", "ProtocolSpec", "SettingSpec", "Suite", "list_suites", "load_suite"]


@dataclass
class ExtractorSpec:
    """The feature space of every metric of a setting (and the embedding of instance selection and IC-GAN).

    ``name`` (e.g. ``inception``: clean-fid's Inception, the papers' protocol) uses a pretrained core extractor,
    whose weights must be on disk; without it, an in-domain classifier (``arch``) is trained here on the setting's
    data and its penultimate layer stands in for Inception. ``resize`` is how the network resizes its input (core's
    ``ResizeSpec``; checked against the network when it is built): by default none for the in-domain classifier
    (images at the setting's resolution) and clean-fid's resize to 299 for ``inception``; any other named network
    declares it.
    """

    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    arch: str = "lenet"
    epochs: int = 3
    holdout: float = 0.1
    seed: int = 0
    resize: ResizeSpec | None = None

    @property
    def network(self) -> str:
        """The network's name in the protocol: the pretrained extractor's, or ``<arch>_indomain``."""
        return self.name or f"{self.arch}_indomain"

    def resize_spec(self) -> ResizeSpec:
        if self.resize is not None:
            return self.resize
        if self.name is None:
            return ResizeSpec("none", None)
        if self.name == "inception":
            return ResizeSpec("clean", 299)
        raise ConfigError(
            f"protocol.extractor.resize: say how {self.name!r} resizes its input (method: clean, tf_bilinear, "
            "torchvision or none; size)"
        )


@dataclass
class ProtocolSpec:
    """How every method of a setting is measured."""

    metrics: list[str] = field(default_factory=lambda: ["fid", "prdc"])
    extractor: ExtractorSpec | None = field(default_factory=ExtractorSpec)  # None: 2-D toys (modes only)
    n_real: int | None = None  # real items for P/R/D/C (None: all); FID always uses the whole training set
    n_fake: int = 2000
    k: int = 5
    minority: bool = False  # Colored MNIST: share of the minor colour among the samples, recall of minor digits
    modes: bool = False  # 2-D mixtures: modes covered and the high-quality fraction
    capacity: bool = False  # classifier-on-synthetic accuracy (class-conditional methods)
    capacity_epochs: int = 3
    capacity_samples: int = 5000
    sheet: int = 64  # samples on each method's sample sheet

    def validate(self) -> None:
        bad = [m for m in self.metrics if m not in ("fid", "prdc", "is")]
        if bad:
            raise ValueError(f"protocol.metrics may hold fid, prdc and is, got {bad}")
        if self.metrics and self.extractor is None:
            raise ValueError("feature metrics need protocol.extractor (an in-domain classifier)")
        if self.n_fake < 10:
            raise ValueError(f"protocol.n_fake must be >= 10, got {self.n_fake}")

    def eval_protocol(self, data: dict[str, Any] | None = None) -> EvalProtocol:
        """This section as core's :class:`EvalProtocol` (the one conversion; ``data``: the setting's ``run.data``).

        FID against every image of the training split; P/R/D/C with ``k`` against ``n_real`` of them drawn at random
        with the cell's seed (None: all of them) and every fake; IS over 10 splits; a class-conditional generator's
        labels drawn uniformly, an instance-conditioned one's stored instances uniformly (a method whose sampler
        draws otherwise, GOLD rejection's class-sequential bank, says so: :meth:`Suite.eval_protocol`); the last
        generator (the trainer's G, its EMA when enabled). Without an extractor (2-D toys) no feature metric applies.
        """
        split = str((data or {}).get("split", "train"))
        ext = self.extractor
        proto: dict[str, Any] = {
            "metrics": list(self.metrics),
            "n_fake": self.n_fake,
            "reference": {"split": split, "draw": "all"},
            "prdc": {"k": self.k, "n_real": self.n_real, "n_fake": None, "seed": None},
            "is_splits": 10,
            "conditioning": {"labels": "uniform", "instances": "uniform"},
            "checkpoint": {"choice": "last"},
            "batch_size": 256,
        }
        if ext is not None:
            r = ext.resize_spec()
            proto["network"] = {"name": ext.network, "options": dict(ext.options)}
            proto["resize"] = {"method": r.method, "size": r.size}
        return from_dict(EvalProtocol, proto, where="protocol")


@dataclass
class SettingSpec:
    run: dict[str, Any] = field(default_factory=dict)  # a core ExperimentConfig (partial): data, model, budget
    conditional: dict[str, Any] = field(default_factory=dict)  # model options of the class-conditional variant
    protocol: ProtocolSpec = field(default_factory=ProtocolSpec)
    description: str = ""

    def eval_protocol(self) -> EvalProtocol:
        """The setting's evaluation as core's protocol (see :meth:`ProtocolSpec.eval_protocol`)."""
        return self.protocol.eval_protocol(self.run.get("data"))


@dataclass
class MethodSpec:
    parts: list[Any] = field(default_factory=list)  # part names, or {name: options}
    baseline: str = "vanilla"
    settings: list[str] | None = None  # where it runs (None: every setting)
    description: str = ""


@dataclass
class Suite:
    name: str = "suite"
    description: str = ""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    settings: dict[str, SettingSpec] = field(default_factory=dict)
    methods: dict[str, MethodSpec] = field(default_factory=dict)

    def validate(self) -> None:
        if len(self.seeds) < 1 or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct and at least one, got {self.seeds}")
        if not self.settings or not self.methods:
            raise ValueError("a suite needs at least one setting and one method")
        for name, spec in self.settings.items():  # a protocol core cannot state fails when the suite loads
            try:
                spec.eval_protocol()
            except ConfigError as exc:
                raise ConfigError(f"settings.{name}.{exc}") from None
        for name, m in self.methods.items():
            if m.baseline != name and m.baseline not in self.methods:
                hint = closest(m.baseline, list(self.methods))
                raise ValueError(
                    f"method {name!r}: baseline {m.baseline!r} is not a method of this suite"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                )
            for s in m.settings or []:
                if s not in self.settings:
                    hint = closest(s, list(self.settings))
                    raise ValueError(
                        f"method {name!r} names unknown setting {s!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                    )

    def settings_of(self, method: str) -> list[str]:
        m = self.methods[method]
        return list(self.settings) if m.settings is None else list(m.settings)

    def eval_protocol(self, setting: str, method: str) -> EvalProtocol:
        """The core protocol of a (setting, method)'s numbers: the setting's, as the method draws its samples
        (:meth:`ganlab.benchmarks.compose.ResolvedMethod.eval_protocol`)."""
        from ganlab.benchmarks.compose import check_method

        return check_method(method, self.methods[method]).eval_protocol(self.settings[setting].eval_protocol())

    def cells(self) -> list[tuple[str, str, int]]:
        """Every (setting, method, seed) of the suite, in a fixed order."""
        return [
            (s, m, seed) for s in self.settings for m in self.methods if s in self.settings_of(m) for seed in self.seeds
        ]


SUITES = resources.files("ganlab.benchmarks") / "suites"


def list_suites() -> list[str]:
    return sorted(p.name[: -len(".yaml")] for p in SUITES.iterdir() if p.name.endswith(".yaml"))


def _path(name: str | Path) -> Path:
    p = Path(name)
    if p.is_file():
        return p
    shipped = SUITES / f"{name}.yaml"
    if shipped.is_file():
        return Path(str(shipped))
    hint = closest(str(name), list_suites())
    raise ConfigError(
        f"suite {str(name)!r} is neither a file nor a shipped suite ({', '.join(list_suites())})"
        + (f"; did you mean {hint!r}?" if hint else "")
    )


def load_suite(
    name: str | Path, overrides: list[str] = (), methods: list[str] | None = None, seeds: int | None = None
) -> Suite:
    """A validated :class:`Suite` from a shipped name or a YAML path, with dotted ``overrides`` (of the suite, e.g.
    ``seeds=[0,1]``, or of every setting's training config, e.g. ``train.steps=2000``); ``methods`` keeps those
    methods (and their baselines), ``seeds`` the first N seeds."""
    from ganlab.benchmarks.compose import check_method

    fields = {"name", "description", "seeds", "settings", "methods"}
    own = [o for o in overrides if o.split("=", 1)[0].split(".", 1)[0] in fields]
    run = [o for o in overrides if o not in own]  # e.g. train.steps=2000: every setting's training config
    data = apply_overrides(read_yaml(_path(name)), own)
    for setting in (data.get("settings") or {}).values():
        setting["run"] = apply_overrides(setting.get("run") or {}, run)
    suite = from_dict(Suite, data)
    if methods:
        unknown = [m for m in methods if m not in suite.methods]
        if unknown:
            hint = closest(unknown[0], list(suite.methods))
            raise ConfigError(
                f"unknown method {unknown[0]!r} in suite {suite.name!r}; it has: {', '.join(suite.methods)}"
                + (f" (did you mean {hint!r}?)" if hint else "")
            )
        keep = set(methods) | {suite.methods[m].baseline for m in methods}
        suite.methods = {k: v for k, v in suite.methods.items() if k in keep}
    if seeds is not None:
        if not 1 <= seeds <= len(suite.seeds):
            raise ConfigError(f"--seeds must be between 1 and {len(suite.seeds)} for suite {suite.name!r}")
        suite.seeds = suite.seeds[:seeds]
    for name_, spec in suite.methods.items():
        check_method(name_, spec)
    return suite


def run_config(suite: Suite, setting: str) -> dict[str, Any]:
    """The setting's core training config as a plain dict (a copy)."""
    return copy.deepcopy(suite.settings[setting].run)
