"""The two Table 1 embeddings that core does not ship: ResNet-50 trained on Places365 and ResNeXt-101 32x8d WSL.

Both give 2048-d features after global average pooling. As the official ``embeddings.py``: images in [-1, 1] ->
[0, 1] -> ImageNet mean/std -> bilinear (``align_corners=True``) resize to 224. Weights never download unless
allowed (``GANLAB_ALLOW_DOWNLOAD=1``); otherwise put the file in ``$GANLAB_WEIGHTS_DIR`` or pass ``weights_path``.

- ``resnet50_places365``: CSAILVision's ``resnet50_places365.pth.tar`` (keys prefixed ``module.``, 365 classes);
- ``resnext101_wsl``: ``ig_resnext101_32x8-c38310e5.pth``, what ``torch.hub.load('facebookresearch/WSL-Images',
  'resnext101_32x8d_wsl')`` loads (torchvision's ResNeXt-101 32x8d architecture).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ganlab.core.features.extractors import EXTRACTORS, FeatureExtractor, _imagenet_norm
from ganlab.core.features.weights import resolve_weights

PLACES365 = ("resnet50_places365.pth.tar", "http://places2.csail.mit.edu/models_places365/resnet50_places365.pth.tar")
WSL = ("ig_resnext101_32x8-c38310e5.pth", "https://download.pytorch.org/models/ig_resnext101_32x8-c38310e5.pth")


class _PooledNet(FeatureExtractor):
    dim = 2048
    resize = "bilinear(align_corners=True, 224)"

    def __init__(self, net: nn.Module, name: str, digest: str) -> None:
        super().__init__()
        net.fc = nn.Identity()
        self.net = net.eval()
        self.name = name
        self.weights_sha256 = digest

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.interpolate(_imagenet_norm(x), size=(224, 224), mode="bilinear", align_corners=True)
        return self.net(x)


def _state(file: Path) -> dict[str, torch.Tensor]:
    state = torch.load(str(file), map_location="cpu", weights_only=False)
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    return {k.removeprefix("module."): v for k, v in state.items()}


@EXTRACTORS.register("resnet50_places365")
def resnet50_places365(
    arg: str | None = None, weights_path: str | Path | None = None, download: bool | None = None
) -> FeatureExtractor:
    """ResNet-50 trained on Places365 (Table 1), 2048-d avgpool features."""
    from torchvision.models import resnet50

    file, digest = resolve_weights(
        PLACES365[0], url=PLACES365[1], path=weights_path, download=download, what="Places365 ResNet-50 weights"
    )
    net = resnet50(weights=None, num_classes=365)
    net.load_state_dict(_state(file))
    return _PooledNet(net, "resnet50_places365", digest)


@EXTRACTORS.register("resnext101_wsl")
def resnext101_wsl(
    arg: str | None = None, weights_path: str | Path | None = None, download: bool | None = None
) -> FeatureExtractor:
    """ResNeXt-101 32x8d pretrained weakly supervised on Instagram 1B (Table 1), 2048-d avgpool features."""
    from torchvision.models import resnext101_32x8d

    file, digest = resolve_weights(
        WSL[0], url=WSL[1], path=weights_path, download=download, what="ResNeXt-101 32x8d WSL weights"
    )
    net = resnext101_32x8d(weights=None)
    net.load_state_dict(_state(file))
    return _PooledNet(net, "resnext101_wsl", digest)
