"""Named feature extractors: ``get_extractor(name, **options) -> FeatureExtractor``.

Every extractor is an ``nn.Module`` mapping images in [-1, 1], shape (B, C, H, W) with C in {1, 3}, to (B, dim)
float32 features, and carries the protocol that produced them (``name``, ``dim``, ``weights_sha256``, ``resize``).

- ``inception``: clean-fid's TorchScript Inception (``inception-2015-12-05.pt``), 2048-d pool; clean-fid's "clean"
  preprocessing (bicubic float resize to 299 on [0, 255], PIL-equivalent, antialiased).
- ``inception_torchvision``: torchvision Inception-v3 pool, 2048-d; [0, 1] -> ImageNet mean/std -> bilinear
  (align_corners) to 299 (the Instance Selection embedding).
- ``resnet50``: torchvision ResNet-50 (supervised ImageNet) avgpool, 2048-d; ImageNet mean/std -> bicubic to 224
  (IC-GAN).
- ``swav``: ResNet-50 with SwAV weights, avgpool, 2048-d; as ``resnet50``.
- ``vgg16``: torchvision VGG-16 fc2 after ReLU, 4096-d (precision and recall); ImageNet mean/std -> bilinear to 224.
- ``classifier:<path>``: penultimate features of a classifier from ``ganlab features train-classifier``.
- ``random:<arch>``: inception / resnet50 / vgg16 / lenet / resnet20 with random weights from a fixed seed (tests).

Weights are found offline first (see :mod:`ganlab.core.features.weights`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import ConfigError, MissingDependencyError, ShapeError, WeightsNotFoundError
from ganlab.core.features.weights import download_allowed, resolve_weights, sha256_file
from ganlab.core.registry import Registry

EXTRACTORS: Registry = Registry("feature extractor")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

INCEPTION_URL = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt"
TV_INCEPTION = (
    "inception_v3_google-0cc3c7bd.pth",
    "https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
)
TV_RESNET50 = ("resnet50-0676ba61.pth", "https://download.pytorch.org/models/resnet50-0676ba61.pth")
TV_RESNET50_OLD = "resnet50-19c8e357.pth"  # the same ImageNet weights under torchvision's older name (IC-GAN)
TV_VGG16 = ("vgg16-397923af.pth", "https://download.pytorch.org/models/vgg16-397923af.pth")
SWAV_FILE = ("swav_800ep_pretrain.pth.tar", "https://dl.fbaipublicfiles.com/deepcluster/swav_800ep_pretrain.pth.tar")


def _hash_prefix(filename: str) -> str | None:
    """torchvision names its files ``<name>-<first 8 hex digits of sha256>.pth``."""
    stem = filename.split(".")[0]
    if "-" in stem:
        tail = stem.rsplit("-", 1)[1]
        if len(tail) >= 8 and all(c in "0123456789abcdef" for c in tail):
            return tail
    return None


class FeatureExtractor(nn.Module):
    """Base class: ``forward(images in [-1, 1]) -> (B, dim) float32``; subclasses implement :meth:`embed`."""

    name: str = "base"
    dim: int = 0
    resize: str = "none"
    #: images must have this many channels (1-channel images are repeated to 3 for ImageNet networks)
    channels: int | None = 3

    def __init__(self) -> None:
        super().__init__()
        self.weights_sha256: str | None = None
        self.options: dict[str, Any] = {}

    def embed(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ShapeError(f"{self.name}: images must be (B, C, H, W), got shape {tuple(x.shape)}")
        if self.channels == 3 and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.channels is not None and x.shape[1] != self.channels:
            raise ShapeError(f"{self.name}: expects {self.channels}-channel images, got {x.shape[1]} channels")
        return self.embed(x.float()).float()

    def protocol(self) -> dict[str, Any]:
        """The facts a metric record needs to be comparable with another."""
        return {"extractor": self.name, "weights_sha256": self.weights_sha256, "resize": self.resize, "dim": self.dim}

    @property
    def cache_id(self) -> str:
        """A string that changes whenever the features would change (extractor, weights, preprocessing)."""
        return json.dumps({**self.protocol(), "options": self.options}, sort_keys=True, default=str)


def _imagenet_norm(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return ((x + 1) / 2 - mean) / std


def clean_resize(x255: torch.Tensor, size: int = 299) -> torch.Tensor:
    """clean-fid's "clean" resize on a batch: bicubic on float images in [0, 255], clipped to [0, 255].

    clean-fid resizes each channel with PIL (mode 'F', BICUBIC), one image at a time on the CPU; torch's antialiased
    bicubic uses the same kernel (a = -0.5) and support, agrees to ~1e-3 grey levels (tested), and runs batched on
    the device.
    """
    if tuple(x255.shape[-2:]) == (size, size):
        return x255
    out = F.interpolate(x255, size=(size, size), mode="bicubic", align_corners=False, antialias=True)
    return out.clamp(0, 255)


def quantize_uint8(x: torch.Tensor) -> torch.Tensor:
    """Round images in [-1, 1] to the 256 grey levels a saved PNG would hold, returned in [-1, 1] again."""
    u = torch.floor((x.clamp(-1, 1) + 1) * 127.5 + 0.5)
    return u / 127.5 - 1


# ------------------------------------------------------------------------------------------------ inception
class CleanInception(FeatureExtractor):
    """clean-fid's Inception (the TorchScript port of the TF FID network) with the "clean" resize to 299."""

    name = "inception"
    dim = 2048
    resize = "clean(bicubic-antialias float, 299)"

    def __init__(
        self,
        weights_path: str | Path | None = None,
        download: bool | None = None,
        output: str = "pool",
        sha256: str | None = None,
    ) -> None:
        super().__init__()
        # no sha256 is pinned for this file here (it could not be verified offline); the hash of the file actually
        # used is recorded with every result, and ``sha256=`` pins it
        file, digest = resolve_weights(
            "inception-2015-12-05.pt",
            url=INCEPTION_URL,
            sha256=sha256,
            path=weights_path,
            download=download,
            what="clean-fid Inception weights",
        )
        self.weights_sha256 = digest
        self.output = output
        self.options = {"output": output}
        if output not in ("pool", "logprobs"):
            raise ConfigError(f"inception output must be 'pool' or 'logprobs', got {output!r}")
        if output == "logprobs":
            self.dim = 1008
        try:
            from cleanfid.inception_torchscript import InceptionV3W
        except ImportError:  # pragma: no cover - clean-fid is a core dependency
            raise MissingDependencyError("the 'inception' extractor needs clean-fid: pip install clean-fid") from None
        if file.name == "inception-2015-12-05.pt":
            self.net = InceptionV3W(str(file.parent), download=False, resize_inside=False)
        else:  # a file under another name: load it the same way
            net = InceptionV3W.__new__(InceptionV3W)
            nn.Module.__init__(net)
            net.base = torch.jit.load(str(file)).eval()
            net.layers = net.base.layers
            net.resize_inside = False
            self.net = net

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x255 = clean_resize((x + 1) * 127.5, 299)
        if self.output == "pool":
            return self.net(x255)
        # StyleGAN2-ADA's IS protocol: softmax without the output bias; log-probabilities serve as logits
        probs = self.net.base(x255, no_output_bias=True)
        return torch.log(probs.clamp_min(1e-30))


class _TorchvisionBase(FeatureExtractor):
    """ImageNet networks from torchvision: ImageNet normalisation, then a resize to ``image_size``."""

    interpolation = "bilinear"
    align_corners: bool | None = None
    image_size = 224

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        x = _imagenet_norm(x)
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            x = F.interpolate(
                x, size=(self.image_size, self.image_size), mode=self.interpolation, align_corners=self.align_corners
            )
        return x


def _load_state(file: Path) -> dict[str, torch.Tensor]:
    state = torch.load(str(file), map_location="cpu", weights_only=False)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    return state


class TorchvisionInception(_TorchvisionBase):
    """torchvision Inception-v3, 2048-d global-average-pool features (the Instance Selection embedding).

    Input: [0, 1] -> ImageNet mean/std -> bilinear ``align_corners=True`` to 299. ``transform_input``: True as
    torchvision sets it for the pretrained Google weights (the Instance Selection *embedding*); False as
    BigGAN-PyTorch's evaluation network (the Instance Selection *evaluation*: FID/IS/PRDC).
    """

    name = "inception_torchvision"
    dim = 2048
    interpolation = "bilinear"
    align_corners = True
    image_size = 299

    def __init__(
        self,
        weights_path: str | Path | None = None,
        download: bool | None = None,
        output: str = "pool",
        random_init: bool = False,
        seed: int = 0,
        image_size: int = 299,
        transform_input: bool = True,
    ) -> None:
        super().__init__()
        from torchvision.models import inception_v3

        if output not in ("pool", "logits"):
            raise ConfigError(f"output must be 'pool' or 'logits', got {output!r}")
        self.image_size = image_size
        self.output = output
        self.options = {
            "output": output,
            "image_size": image_size,
            "random_init": random_init,
            "transform_input": bool(transform_input),
        }
        self.resize = f"bilinear(align_corners=True, {image_size})"
        if random_init:
            torch.manual_seed(seed)
            self.options["seed"] = seed
            net = inception_v3(weights=None, aux_logits=False, init_weights=True, transform_input=transform_input)
            self.weights_sha256 = f"random(seed={seed})"
        else:
            file, digest = resolve_weights(
                TV_INCEPTION[0],
                url=TV_INCEPTION[1],
                sha256=_hash_prefix(TV_INCEPTION[0]),
                path=weights_path,
                download=download,
                what="torchvision Inception-v3 weights",
            )
            net = inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=transform_input)
            state = {k: v for k, v in _load_state(file).items() if not k.startswith("AuxLogits")}
            net.load_state_dict(state)
            self.weights_sha256 = digest
        self.fc = net.fc
        net.fc = nn.Identity()
        self.net = net.eval()
        if output == "logits":
            self.dim = self.fc.out_features

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        pool = self.net(self._prepare(x))
        return pool if self.output == "pool" else self.fc(pool)


class TorchvisionResNet50(_TorchvisionBase):
    """ResNet-50 avgpool features (2048-d): supervised ImageNet weights, SwAV weights, or random init.

    Preprocessing follows IC-GAN: ImageNet mean/std, then bicubic upsampling to 224.
    """

    name = "resnet50"
    dim = 2048
    interpolation = "bicubic"
    align_corners = False
    image_size = 224

    def __init__(
        self,
        weights_path: str | Path | None = None,
        download: bool | None = None,
        output: str = "pool",
        variant: str = "supervised",
        seed: int = 0,
        image_size: int = 224,
    ) -> None:
        super().__init__()
        from torchvision.models import resnet50

        if output not in ("pool", "logits") or (output == "logits" and variant == "swav"):
            raise ConfigError(f"output must be 'pool' (or 'logits' for the supervised ResNet-50), got {output!r}")
        self.image_size = image_size
        self.output = output
        self.options = {"output": output, "image_size": image_size, "variant": variant}
        self.resize = f"bicubic({image_size})"
        if variant == "random":
            torch.manual_seed(seed)
            self.options["seed"] = seed
            net = resnet50(weights=None)
            self.weights_sha256 = f"random(seed={seed})"
        elif variant == "supervised":
            file, digest = resolve_weights(
                [TV_RESNET50[0], TV_RESNET50_OLD],
                url=TV_RESNET50[1],
                path=weights_path,
                download=download,
                what="torchvision ResNet-50 weights",
            )
            prefix = _hash_prefix(file.name)
            if prefix and not digest.startswith(prefix):
                from ganlab.core.features.weights import check_sha256

                check_sha256(file, prefix)
            net = resnet50(weights=None)
            net.load_state_dict(_load_state(file))
            self.weights_sha256 = digest
        elif variant == "swav":
            net, self.weights_sha256 = _swav_resnet50(weights_path, download)
            self.name = "swav"
        else:
            raise ConfigError(f"unknown ResNet-50 variant {variant!r}; choose supervised, swav or random")
        self.fc = net.fc
        net.fc = nn.Identity()
        self.net = net.eval()
        if output == "logits":
            self.dim = self.fc.out_features

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        pool = self.net(self._prepare(x))
        return pool if self.output == "pool" else self.fc(pool)


def _swav_resnet50(weights_path: str | Path | None, download: bool | None) -> tuple[nn.Module, str]:
    """SwAV ResNet-50 trunk: the local ``swav_800ep_pretrain.pth.tar`` first, torch.hub when downloads are allowed."""
    from torchvision.models import resnet50

    try:
        file, digest = resolve_weights(
            SWAV_FILE[0], url=None, path=weights_path, download=False, what="SwAV ResNet-50 weights"
        )
    except WeightsNotFoundError:
        if not download_allowed(download):
            raise
        try:
            net = torch.hub.load("facebookresearch/swav:main", "resnet50")
        except Exception as exc:
            raise WeightsNotFoundError(
                f"could not load SwAV through torch.hub ({exc}); put {SWAV_FILE[0]!r} (from {SWAV_FILE[1]}) "
                "into $GANLAB_WEIGHTS_DIR"
            ) from None
        return net, "torch.hub:facebookresearch/swav:main/resnet50"
    state = _load_state(file)
    # the SwAV checkpoint was saved from DistributedDataParallel and holds the projection head and prototypes too
    state = {k.removeprefix("module."): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.startswith(("projection_head", "prototypes"))}
    net = resnet50(weights=None)
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("fc.") for k in missing):
        raise WeightsNotFoundError(f"{file} is not a SwAV ResNet-50 checkpoint (missing {missing[:3]}...)")
    return net, digest


class TorchvisionVGG16(_TorchvisionBase):
    """VGG-16 fc2 features (4096-d, after ReLU) for Kynkäänniemi-style precision and recall."""

    name = "vgg16"
    dim = 4096
    interpolation = "bilinear"
    align_corners = False
    image_size = 224

    def __init__(
        self,
        weights_path: str | Path | None = None,
        download: bool | None = None,
        random_init: bool = False,
        seed: int = 0,
        image_size: int = 224,
    ) -> None:
        super().__init__()
        from torchvision.models import vgg16

        self.image_size = image_size
        self.options = {"image_size": image_size, "random_init": random_init}
        self.resize = f"bilinear({image_size})"
        if random_init:
            torch.manual_seed(seed)
            self.options["seed"] = seed
            net = vgg16(weights=None)
            self.weights_sha256 = f"random(seed={seed})"
        else:
            file, digest = resolve_weights(
                TV_VGG16[0],
                url=TV_VGG16[1],
                sha256=_hash_prefix(TV_VGG16[0]),
                path=weights_path,
                download=download,
                what="torchvision VGG-16 weights",
            )
            net = vgg16(weights=None)
            net.load_state_dict(_load_state(file))
            self.weights_sha256 = digest
        # classifier = [fc1, ReLU, Dropout, fc2, ReLU, Dropout, fc3]: keep up to fc2's ReLU
        net.classifier = net.classifier[:5]
        self.net = net.eval()

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self._prepare(x))


# ---------------------------------------------------------------------------------------------- classifiers
class ClassifierExtractor(FeatureExtractor):
    """Penultimate features of an in-domain classifier (LeNet, CIFAR ResNet-20) trained by ganlab."""

    channels = None

    def __init__(self, model: nn.Module, name: str, weights_sha256: str | None, output: str = "pool") -> None:
        super().__init__()
        if output not in ("pool", "logits"):
            raise ConfigError(f"output must be 'pool' or 'logits', got {output!r}")
        self.net = model.eval()
        self.name = name
        self.output = output
        self.dim = model.feat_dim if output == "pool" else model.num_classes
        self.weights_sha256 = weights_sha256
        self.channels = model.in_channels
        self.options = {"output": output}

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x) if self.output == "pool" else self.net(x)


# ------------------------------------------------------------------------------------------------ registry
@EXTRACTORS.register("inception")
def _inception(arg: str | None = None, **options: Any) -> FeatureExtractor:
    return CleanInception(**options)


@EXTRACTORS.register("inception_torchvision")
def _inception_tv(arg: str | None = None, **options: Any) -> FeatureExtractor:
    return TorchvisionInception(**options)


@EXTRACTORS.register("resnet50")
def _resnet50(arg: str | None = None, **options: Any) -> FeatureExtractor:
    return TorchvisionResNet50(variant="supervised", **options)


@EXTRACTORS.register("swav")
def _swav(arg: str | None = None, **options: Any) -> FeatureExtractor:
    return TorchvisionResNet50(variant="swav", **options)


@EXTRACTORS.register("vgg16")
def _vgg16(arg: str | None = None, **options: Any) -> FeatureExtractor:
    return TorchvisionVGG16(**options)


@EXTRACTORS.register("classifier")
def _classifier(arg: str | None = None, output: str = "pool", **options: Any) -> FeatureExtractor:
    if not arg:
        raise ConfigError("use 'classifier:<path to a checkpoint from ganlab features train-classifier>'")
    from ganlab.core.features.classifier import load_classifier

    model, meta = load_classifier(arg, **options)
    return ClassifierExtractor(model, f"classifier:{meta['arch']}", sha256_file(arg), output=output)


RANDOM_ARCHS = ("inception", "resnet50", "vgg16", "lenet", "resnet20")


@EXTRACTORS.register("random")
def _random(arg: str | None = None, seed: int = 0, **options: Any) -> FeatureExtractor:
    if arg not in RANDOM_ARCHS:
        raise ConfigError(f"use 'random:<arch>' with arch one of {', '.join(RANDOM_ARCHS)}, got {arg!r}")
    if arg == "inception":
        ext: FeatureExtractor = TorchvisionInception(random_init=True, seed=seed, **options)
    elif arg == "resnet50":
        ext = TorchvisionResNet50(variant="random", seed=seed, **options)
    elif arg == "vgg16":
        ext = TorchvisionVGG16(random_init=True, seed=seed, **options)
    else:
        from ganlab.core.nn.classifiers import build_classifier

        in_channels = options.pop("in_channels", 1 if arg == "lenet" else 3)
        output = options.pop("output", "pool")
        torch.manual_seed(seed)
        model = build_classifier(arg, num_classes=options.pop("num_classes", 10), in_channels=in_channels, **options)
        ext = ClassifierExtractor(model, f"random:{arg}", f"random(seed={seed})", output=output)
        ext.options.update({"seed": seed, "in_channels": in_channels})
        return ext
    ext.name = f"random:{arg}"
    return ext


def get_extractor(name: str, **options: Any) -> FeatureExtractor:
    """Build a feature extractor by name (``inception``, ``resnet50``, ``classifier:<path>``, ``random:<arch>``...).

    Common options: ``weights_path`` (a file or folder), ``download`` (allow a download), ``output``
    (``pool`` features or ``logits`` where the network has a classifier head).
    """
    base, _, arg = name.partition(":")
    builder = EXTRACTORS.get(base)
    if arg and base not in ("classifier", "random"):
        raise ConfigError(f"extractor {base!r} takes no ':' argument (got {name!r})")
    try:
        ext = builder(arg or None, **options)
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise ConfigError(f"bad options for extractor {name!r}: {exc}") from None
    return ext.eval().requires_grad_(False)


def list_extractors() -> list[str]:
    return EXTRACTORS.names()
