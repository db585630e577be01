"""How a run trained on your own G and D records them, and how another process rebuilds them from that record.

A run on a registered backbone records ``model.backbone`` and ``model.options``. A run on your own modules
records ``model.backbone: custom`` and, in ``model.options``, one record per model::

    model:
      backbone: custom
      options:
        G: {class: "mypkg.models:MyG", kwargs: {width: 64}}
        D: {class: "ganlab.core.nn.protocol:DiscriminatorAdapter", kwargs: {heads: [adv]},
            module: {class: "mypkg.models:MyD", kwargs: {}}}

**The contract.** A module can be rebuilt when its class is importable (not defined in ``__main__`` or inside a
function) and its constructor arguments are known as plain data (numbers, strings, lists, dicts):

1. a class that defines ``init_kwargs`` (a dict attribute or property) gives them exactly; otherwise
2. every parameter of the class's ``__init__`` is read from the module's attribute of the same name (the
   scikit-learn convention); a parameter with a default and no such attribute keeps its default.

``as_generator`` / ``as_discriminator`` record their own options and the record of the module they wrap. Before the
first step the trainer rebuilds each record once and compares parameter names and shapes with the live module; a
module that cannot be rebuilt gets ``rebuildable: false`` with the reason, a warning at training time, and that
reason again in the error of any command that needs to rebuild it, unless the module's structure could be kept
instead: then every checkpoint also holds ``skeletons`` (the pickled module with its tensors on the ``meta`` device,
no weights), which is how an ``nn.Sequential`` of torch layers comes back. Weights always come from the checkpoint
(the EMA generator when the run kept one, else G). Rebuilding imports your module: put the folder that holds it on
``PYTHONPATH`` (or install it) wherever the run is sampled or evaluated. Non-persistent buffers (not in the state
dict) of a module rebuilt from its skeleton start uninitialised: give such a module a record instead.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import io
import warnings
from typing import Any

import torch
from torch import nn

from ganlab.core.errors import CheckpointError

__all__ = ["build_recorded", "model_skeletons", "record_models", "record_module", "rebuild_module"]


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _as_yaml(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_as_yaml(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_yaml(v) for k, v in value.items()}
    return value


def _refused(path: str, reason: str) -> dict[str, Any]:
    return {"class": path, "rebuildable": False, "reason": reason}


def _init_kwargs(module: nn.Module, name: str) -> dict[str, Any] | str:
    """The constructor arguments of ``module`` as plain data, or why they cannot be known."""
    given = getattr(module, "init_kwargs", None)
    if callable(given):
        given = given()
    if given is not None:
        if not isinstance(given, dict) or not _plain(given):
            return f"{name}.init_kwargs must be a dict of plain data (numbers, strings, lists, dicts), got {given!r}"
        return _as_yaml(dict(given))
    try:
        params = list(inspect.signature(type(module).__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return f"the signature of {name}.__init__ cannot be read; define {name}.init_kwargs"
    kwargs: dict[str, Any] = {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            return (
                f"{name}.__init__ takes *{p.name}, so its arguments cannot be read back from the module; define "
                f"{name}.init_kwargs (a dict of the constructor arguments) or build the model in a class of your own"
            )
        if p.name in vars(module) or hasattr(type(module), p.name):
            value = getattr(module, p.name)
        elif p.default is not p.empty:
            continue
        else:
            return (
                f"{name}.__init__ takes {p.name!r} but the module keeps no attribute {p.name!r}; store each "
                f"constructor argument as an attribute of the same name, or define {name}.init_kwargs"
            )
        if not _plain(value):
            return (
                f"{name}'s constructor argument {p.name!r} is a {type(value).__name__}, which a run cannot record as "
                f"plain data; define {name}.init_kwargs with plain values"
            )
        kwargs[p.name] = _as_yaml(value)
    return kwargs


def record_module(module: nn.Module) -> dict[str, Any]:
    """The record of one module (see the module docstring); ``rebuildable: false`` and a reason when it has none."""
    cls = type(module)
    path = f"{cls.__module__}:{cls.__qualname__}"
    if cls.__module__ == "__main__":
        return _refused(path, f"{cls.__qualname__} is defined in the script being run (__main__), which no other "
                        "process can import; move it into a module of its own")  # fmt: skip
    if "<locals>" in cls.__qualname__:
        return _refused(path, f"{cls.__qualname__} is defined inside a function; define it at module level")
    kwargs = _init_kwargs(module, cls.__qualname__)
    if isinstance(kwargs, str):
        return _refused(path, kwargs)
    record: dict[str, Any] = {"class": path, "kwargs": kwargs}
    inner = getattr(module, "wrapped_module", None)
    if isinstance(inner, nn.Module):
        record["module"] = record_module(inner)
        if record["module"].get("rebuildable") is False:
            return _refused(path, f"the module it wraps cannot be rebuilt: {record['module']['reason']}")
    return record


def _import(path: str, who: str) -> type:
    module_name, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise CheckpointError(
            f"cannot rebuild {who}: its class {path} lives in module {module_name!r}, which this Python cannot "
            f"import ({type(exc).__name__}: {exc}); put the folder that holds it on PYTHONPATH (or install it)"
        ) from None
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise CheckpointError(f"cannot rebuild {who}: module {module_name!r} has no {qualname!r} (any more?)")
        obj = getattr(obj, part)
    return obj


def rebuild_module(record: dict[str, Any], who: str = "the model") -> nn.Module:
    """A fresh module (initial weights) from its record; a :class:`CheckpointError` naming the reason otherwise."""
    if not isinstance(record, dict) or "class" not in record:
        raise CheckpointError(
            f"cannot rebuild {who}: the run records no class for it (model.options.{who} is {record!r}); it was "
            "trained before runs recorded their own models. Load its weights into your module yourself "
            "(checkpoint['models'][...])"
        )
    if record.get("rebuildable") is False:
        raise CheckpointError(
            f"cannot rebuild {who} ({record['class']}) of this run: {record.get('reason')}. Its weights are in the "
            "checkpoint (checkpoint['models'], and checkpoint['ema']['model'] for the averaged G): load them into "
            "your module yourself"
        )
    cls = _import(str(record["class"]), who)
    args = (rebuild_module(record["module"], who),) if "module" in record else ()
    try:
        return cls(*args, **dict(record.get("kwargs") or {}))
    except Exception as exc:
        raise CheckpointError(
            f"cannot rebuild {who}: {record['class']}(**{record.get('kwargs')}) failed ({type(exc).__name__}: {exc})"
        ) from None


def _mismatch(live: nn.Module, rebuilt: nn.Module) -> str | None:
    a = {k: tuple(v.shape) for k, v in live.state_dict().items()}
    b = {k: tuple(v.shape) for k, v in rebuilt.state_dict().items()}
    if a == b:
        return None
    diff = sorted(set(a) ^ set(b)) or [k for k in a if a[k] != b.get(k)]
    return (
        f"a module rebuilt from the recorded constructor arguments differs from the trained one ({', '.join(diff[:3])}"
        f"{' ...' if len(diff) > 3 else ''}); attributes named like constructor arguments may hold other values: "
        "define init_kwargs on the class"
    )


def record_models(G: nn.Module, D: nn.Module, *, check: bool = True) -> dict[str, Any]:
    """``{"G": record, "D": record}`` for ``model.options`` of a custom run; each record is rebuilt once (on CPU)
    and compared with the live module when ``check``. A model without a usable record is warned about."""
    out: dict[str, Any] = {}
    for who, module in (("G", G), ("D", D)):
        record = record_module(module)
        if check and record.get("rebuildable") is not False:
            try:
                with torch.random.fork_rng(devices=[]):  # the rebuilt copy's initialisation leaves the run's RNG alone
                    problem = _mismatch(module, rebuild_module(record, who))
            except CheckpointError as exc:
                problem = str(exc)
            if problem is not None:
                record = _refused(record["class"], problem)
        if record.get("rebuildable") is False and skeleton(module) is None:
            warnings.warn(
                f"this run's {who} cannot be rebuilt from its record, so `ganlab sample`, `ganlab eval` and the score "
                f"commands will not load it: {record['reason']}",
                stacklevel=3,
            )
        out[who] = record
    return out


def skeleton(module: nn.Module) -> nn.Module | None:
    """A weightless copy of ``module`` (tensors on the ``meta`` device) that pickles, or None."""
    try:
        out = copy.deepcopy(module).to("meta")
        torch.save(out, io.BytesIO())
    except Exception:
        return None
    return out


def model_skeletons(records: dict[str, Any], G: nn.Module, D: nn.Module) -> dict[str, nn.Module]:
    """Skeletons of the models whose record cannot rebuild them (empty when every record can)."""
    out = {}
    for who, module in (("G", G), ("D", D)):
        record = records.get(who)
        if isinstance(record, dict) and record.get("rebuildable") is False:
            sk = skeleton(module)
            if sk is not None:
                out[who] = sk
    return out


def build_recorded(
    options: dict[str, Any], skeletons: dict[str, nn.Module] | None = None
) -> tuple[nn.Module, nn.Module]:
    """(G, D) rebuilt from the records in ``model.options`` of a custom run (initial weights), or from a
    checkpoint's ``skeletons`` (uninitialised: load weights next) for a model whose record cannot rebuild it."""
    out = []
    for who in ("G", "D"):
        record = options.get(who)
        sk = (skeletons or {}).get(who)
        if isinstance(record, dict) and record.get("rebuildable") is False and sk is not None:
            out.append(copy.deepcopy(sk).to_empty(device="cpu"))
        else:
            out.append(rebuild_module(record, who))
    return out[0], out[1]
