"""What a dress rehearsal puts in place of what this machine lacks: stand-in datasets and evaluation networks.

- every ``data: {name: ...}`` section whose dataset has a stand-in writer (:mod:`ganlab.core.data.standin`) and is
  not bundled gets a stand-in under ``<cache>/data/<name>`` and its ``root`` pointed there; the run reads it
  inside :func:`~ganlab.core.data.checksums.skip_checksums`;
- every evaluation network or embedding (``extractor``, ``embedding``, ``network: {name}``) whose weights file is
  missing gets a file with the real file's name, keys and tensor shapes and random values in ``<cache>/weights``,
  and ``$GANLAB_WEIGHTS_DIR`` points there for the rehearsal (real files from the user's folder are linked in, so
  they are still found): the extractor loads it through the ordinary lookup. Only those stand-in files skip the
  pinned sha256 check. A network without a stand-in writer here (a TorchScript file) stays missing, and the
  rehearsal fails naming it.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

__all__ = ["FAKE_WEIGHTS", "REAL_CLASSES", "RehearsalTimeout", "networks", "prepared", "standins_active", "time_limit"]


def _tv(builder: str, prefix: str = "", wrap: str | None = None, **kwargs: Any) -> Callable[[], Any]:
    def state() -> Any:
        import torchvision.models as tvm

        net = getattr(tvm, builder)(weights=None, **kwargs)
        sd = {prefix + k: v for k, v in net.state_dict().items()}
        return {wrap: sd} if wrap else sd

    return state


def _swav() -> Any:
    """SwAV's checkpoint: a DistributedDataParallel ResNet-50 (``module.`` keys, no ``fc``) with its projection head
    (2048 -> 2048, BN, -> 128) and 3,000 prototypes."""
    import torch

    sd = {f"module.{k}": v for k, v in _tv("resnet50")().items() if not k.startswith("fc.")}
    head = {
        "projection_head.0.weight": (2048, 2048),
        "projection_head.0.bias": (2048,),
        "projection_head.1.weight": (2048,),
        "projection_head.1.bias": (2048,),
        "projection_head.1.running_mean": (2048,),
        "projection_head.1.running_var": (2048,),
        "projection_head.3.weight": (128, 2048),
        "projection_head.3.bias": (128,),
        "prototypes.weight": (3000, 128),
    }
    sd.update({f"module.{k}": torch.randn(shape) * 0.01 for k, shape in head.items()})
    sd["module.projection_head.1.num_batches_tracked"] = torch.tensor(0)
    return sd


def _clean_fid_inception() -> Any:
    """clean-fid's TorchScript Inception: the interface of the real file (``layers(x)`` -> 2048-d pool of a [-1, 1]
    299 image; ``forward(x, return_features, no_output_bias)`` on [0, 255], 1,008 softmax outputs), torchvision's
    Inception-v3 trunk with random values (the real file's graph is TensorFlow's, which is not rebuilt here)."""
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torchvision.models import inception_v3

    net = inception_v3(weights=None, aux_logits=False, init_weights=False)
    names = "Conv2d_1a_3x3 Conv2d_2a_3x3 Conv2d_2b_3x3 maxpool1 Conv2d_3b_1x1 Conv2d_4a_3x3 maxpool2 Mixed_5b Mixed_5c "
    names += "Mixed_5d Mixed_6a Mixed_6b Mixed_6c Mixed_6d Mixed_6e Mixed_7a Mixed_7b Mixed_7c avgpool"
    trunk = nn.Sequential(*(getattr(net, n) for n in names.split()))

    class Inception(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = trunk
            self.output = nn.Linear(2048, 1008)

        def forward(self, x: torch.Tensor, return_features: bool = False, no_output_bias: bool = False):
            x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
            feats = self.layers((x - 128) / 128).flatten(1)
            if return_features:
                return feats
            logits = feats @ self.output.weight.t() if no_output_bias else self.output(feats)
            return F.softmax(logits, dim=1)

    return torch.jit.script(Inception().eval())


# extractor name -> (weights file names (any one will do), the state the real file holds, with random values)
FAKE_WEIGHTS: dict[str, tuple[list[str], Callable[[], Any]]] = {
    "inception": (["inception-2015-12-05.pt"], _clean_fid_inception),
    "swav": (["swav_800ep_pretrain.pth.tar"], _swav),
    "inception_torchvision": (
        ["inception_v3_google-0cc3c7bd.pth"],
        _tv("inception_v3", aux_logits=True, init_weights=False),
    ),
    "resnet50": (["resnet50-0676ba61.pth", "resnet50-19c8e357.pth"], _tv("resnet50")),
    "vgg16": (["vgg16-397923af.pth"], _tv("vgg16")),
    # Instance Selection's Table 1 networks (ganlab.instance_selection.extractors): CSAILVision's file wraps a
    # DataParallel state (``module.`` keys) in ``state_dict``
    "resnet50_places365": (
        ["resnet50_places365.pth.tar"],
        _tv("resnet50", prefix="module.", wrap="state_dict", num_classes=365),
    ),
    "resnext101_wsl": (["ig_resnext101_32x8-c38310e5.pth"], _tv("resnext101_32x8d")),
}


def _walk(node: Any) -> Iterator[tuple[str, Any, Any]]:
    """(key, value, parent mapping) for every key of a nested config."""
    if isinstance(node, dict):
        for k, v in list(node.items()):
            yield k, v, node
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def networks(cfg: dict[str, Any]) -> list[str]:
    """The evaluation networks and embeddings a config names."""
    out = []
    for k, v, _ in _walk(cfg):
        if (k in ("extractor", "embedding") or k.endswith("_extractor")) and isinstance(v, str):
            out.append(v)
        elif k == "network" and isinstance(v, dict) and isinstance(v.get("name"), str):
            out.append(v["name"])
    return list(dict.fromkeys(out))


def _found(names: list[str]) -> Path | None:
    from ganlab.core.features.weights import _candidates

    return next((f for f in _candidates(names, None) if f.is_file()), None)


def _weights(cfg: dict[str, Any], folder: Path, extra: tuple[str, ...] = ()) -> list[str]:
    """Stand-in weight files for the missing networks (those ``cfg`` names and ``extra``, e.g. its protocol's; written
    once, kept in ``folder``); returns what was substituted. Real files from the user's weights folder are linked
    into ``folder``."""
    from ganlab.core.features.weights import WEIGHTS_ENV

    folder.mkdir(parents=True, exist_ok=True)
    user = os.environ.get(WEIGHTS_ENV)
    if user and Path(user).expanduser().is_dir() and Path(user).expanduser().resolve() != folder.resolve():
        for f in Path(user).expanduser().iterdir():
            link = folder / f.name
            if f.is_file() and not link.exists():
                link.symlink_to(f.resolve())
    substituted = []
    for name in dict.fromkeys([*networks(cfg), *extra]):
        base = name.split(":", 1)[0]
        if base not in FAKE_WEIGHTS or ":" in name:
            continue  # no weights file, or no stand-in writer (the extractor then fails naming the file)
        files, state = FAKE_WEIGHTS[base]
        target = folder / files[0]
        if _found(files) is not None:  # the real file is there: a stand-in written earlier must not shadow it
            if target.is_file() and not target.is_symlink():
                target.unlink()
            continue
        if not target.is_file():
            import torch

            tmp = target.with_name(target.name + ".tmp")
            value = state()
            if isinstance(value, torch.jit.ScriptModule):  # a TorchScript file (clean-fid's Inception)
                value.save(str(tmp))
            else:
                torch.save(value, tmp)
            tmp.replace(target)
        substituted.append(f"{name} weights (random values, the real keys and shapes)")
    return substituted


# the real class counts (a class-conditional model is built for the real count, so a stand-in whose writer takes
# ``classes`` has as many; a config's ``model.options.num_classes`` comes first). The counts also size the stand-ins
REAL_CLASSES = {
    "imagenet": 1000,
    "imagenet_lt": 1000,
    **dict.fromkeys(("mnist", "fashion_mnist", "cifar10", "svhn", "stl10"), 10),
    "cifar100": 100,
    "lsun": 10,  # GOLD's labelled scene categories (categories: all)
}
# datasets built from another dataset's files at their root: the stand-in written is the source's
# (Colored MNIST colours the MNIST digits it finds under its root)
BUILT_FROM = {"colored_mnist": "mnist"}
# items a config holds out of training (validation, test, held-out real sets)
HELD_KEYS = ("val_size", "test_size", "holdout")


# a stand-in holds at most this many classes (its class folders / label ids are the first of the real ones; a model
# keeps the class count its config states). Deviation, for time: ImageNet's 1,000 classes at two images each made
# every ImageNet rehearsal embed 2,000+ images with Inception / SwAV on the CPU (over 15 minutes a config)
MAX_CLASSES = 20


def _classes(cfg: dict[str, Any], name: str) -> int | None:
    stated = [v for k, v, _ in _walk(cfg) if k == "num_classes" and isinstance(v, int) and not isinstance(v, bool)]
    return max(stated) if stated else REAL_CLASSES.get(name)


def _datasets(cfg: dict[str, Any], folder: Path, num_for: Callable[[str], int]) -> list[str]:
    """Point every ``data`` section naming a dataset with a stand-in at a stand-in written under ``folder``."""
    import inspect
    import json

    from ganlab.core.data.standin import MARKER, STANDINS, write_standin
    from ganlab.core.data.standin import _writers as writers

    substituted = []
    for k, v, _ in list(_walk(cfg)):
        if k != "data" or not isinstance(v, dict):
            continue
        name = BUILT_FROM.get(v.get("name"), v.get("name"))
        if name not in STANDINS:
            continue
        root = folder / name
        options = {}
        classes = _classes(cfg, name)
        if classes and classes > MAX_CLASSES:  # see MAX_CLASSES
            classes = MAX_CLASSES
        if classes and "classes" in inspect.signature(writers()[name][0]).parameters:
            options["classes"] = classes
        num = max(num_for(name), needed(cfg, classes or 0, _batch(cfg)))
        marker = root / MARKER
        done = json.loads(marker.read_text()).get("stand_ins", {}).get(name, {}) if marker.is_file() else {}
        if done.get("num") != num or done.get("options") != options or not done.get("files"):
            write_standin(name, root, num=num, **options)
            done = json.loads(marker.read_text())["stand_ins"][name]
        v["root"] = str(root / done["files"][0]) if name == "hdf5" else str(root)
        words = f", {classes} classes" if "classes" in options else ""
        substituted.append(f"dataset {name} (stand-in, {num} items{words})")
    return list(dict.fromkeys(substituted))


def needed(cfg: dict[str, Any], classes: int, batch: int) -> int:
    """The items a stand-in must hold for ``cfg`` to take every code path, derived from what the config asks:

    - held out: the largest of each held-out count (``val_size``, ``test_size``, ``holdout``), summed;
    - labelled: a class-balanced labelled set at the smallest label fraction needs ``classes / fraction`` items;
    - per class: a per-class Gaussian / PPCA fits >= 2 items of a class and per-class selection keeps
      ``retention_ratio`` percent of each, so a class needs ``max(2, ceil(1 / (smallest retention / 100)))``;
    - training: two batches survive the smallest retention.
    """
    held: dict[str, int] = {}
    fractions, retentions = [1.0], [100.0]
    for k, v, _ in _walk(cfg):
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        if k in HELD_KEYS and number and v > 0:
            held[k] = max(held.get(k, 0), int(v))
        elif k in ("label_fraction", "label_fractions"):
            fractions += [float(f) for f in (v if isinstance(v, list) else [v]) if f]
        elif k == "retention_ratio" and number and v > 0:
            retentions.append(float(v))
    keep = min(retentions) / 100
    train = max(math.ceil(2 * batch / keep), math.ceil(classes / min(fractions)), classes * max(2, math.ceil(1 / keep)))
    return sum(held.values()) + train


def _batch(cfg: dict[str, Any]) -> int:
    sizes = [v for k, v, p in _walk(cfg) if k == "batch_size" and isinstance(v, int) and "steps" in p]
    return max(sizes, default=1)


@contextlib.contextmanager
def prepared(
    cfg: dict[str, Any], cache: Path, extra_networks: tuple[str, ...] = ()
) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Within the block: ``cfg`` (a copy) reads stand-in datasets, missing weights are stand-ins found through
    ``$GANLAB_WEIGHTS_DIR``, and checksums of stand-in files are not compared."""
    from ganlab.core.data.standin import default_num

    cfg = copy.deepcopy(cfg)
    substituted = _datasets(cfg, cache / "data", default_num)
    substituted += _weights(cfg, (cache / "weights").resolve(), extra_networks)
    with standins_active(cache):
        yield cfg, substituted


@contextlib.contextmanager
def standins_active(cache: Path) -> Iterator[None]:
    """The process-wide part of :func:`prepared`, for a process that runs a config prepared by another one (each
    worker of a two-process rehearsal): ``$GANLAB_WEIGHTS_DIR`` on the stand-in weights, no checksum comparison of
    stand-in files."""
    from ganlab.core.data.checksums import skip_checksums
    from ganlab.core.features import weights as W

    folder = (cache / "weights").resolve()
    original = W.check_sha256

    def check(file: Path, sha256: str | None) -> str:
        path = Path(file)
        if path.parent.resolve() == folder and not path.is_symlink():  # a stand-in file: its hash is not the real one
            return W.sha256_file(path)
        return original(file, sha256)

    with (
        skip_checksums(),
        mock.patch.dict(os.environ, {W.WEIGHTS_ENV: str(folder)}),
        mock.patch.object(W, "check_sha256", check),
    ):
        yield


class RehearsalTimeout(BaseException):
    """Not an Exception: the harness catches a failing arm's exceptions and goes on with the next arm; the time
    limit must end the whole rehearsal."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`RehearsalTimeout` in the main thread after ``seconds`` (None: no limit)."""
    if not seconds:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise RehearsalTimeout(f"no result within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
