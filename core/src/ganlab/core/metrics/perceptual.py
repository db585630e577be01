"""LPIPS perceptual distance (Zhang et al., 2018) through the ``lpips`` package.

The linear calibration layers ship inside the ``lpips`` wheel; the trunk (AlexNet / VGG16 / SqueezeNet ImageNet
weights) comes from torchvision's cache (``$TORCH_HOME/hub/checkpoints``). Offline, a missing trunk raises
:class:`~ganlab.core.errors.WeightsNotFoundError` naming the file to place there, instead of a download traceback.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import MissingDependencyError, ShapeError, WeightsNotFoundError
from ganlab.core.metrics._checks import NonFiniteError

__all__ = ["LPIPS", "lpips_distance", "trunk_weights_path"]

_TRUNKS = {"alex": "AlexNet_Weights", "vgg": "VGG16_Weights", "squeeze": "SqueezeNet1_1_Weights"}


def _lpips_module() -> Any:
    try:
        import lpips
    except ImportError as exc:
        raise MissingDependencyError(
            "LPIPS needs the `lpips` package: `pip install lpips` (or `pip install ganlab-core[lpips]`)."
        ) from exc
    return lpips


def trunk_weights_path(net: str = "alex") -> tuple[Path, str]:
    """Where torchvision looks for the ImageNet weights of the LPIPS trunk ``net``, and their download URL."""
    if net not in _TRUNKS:
        raise ShapeError(f"unknown LPIPS trunk {net!r}; choose one of {sorted(_TRUNKS)}.")
    import torchvision.models as tvm

    url = getattr(tvm, _TRUNKS[net]).IMAGENET1K_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name, url


class LPIPS(torch.nn.Module):
    """LPIPS distance module: ``forward(a, b) -> (N,)`` for image batches in [-1, 1].

    Args:
        net: trunk, ``"alex"`` (the paper's default), ``"vgg"`` or ``"squeeze"``.
        allow_download: let torchvision download missing trunk weights (off by default: runs must be offline-safe).
        pretrained_trunk: ``False`` builds a randomly initialised trunk (tests only; not LPIPS any more).
    """

    def __init__(self, net: str = "alex", *, allow_download: bool = False, pretrained_trunk: bool = True) -> None:
        super().__init__()
        lpips = _lpips_module()
        path, url = trunk_weights_path(net)
        if pretrained_trunk and not path.is_file() and not allow_download:
            raise WeightsNotFoundError(
                f"LPIPS ({net}) needs the torchvision ImageNet trunk weights at {path}; download {url} to that path "
                "(or set TORCH_HOME to a folder holding hub/checkpoints/), or pass allow_download=True."
            )
        try:
            with warnings.catch_warnings():  # lpips still passes torchvision's deprecated `pretrained=` flag
                warnings.simplefilter("ignore", UserWarning)
                self.model = lpips.LPIPS(net=net, verbose=False, pnet_rand=not pretrained_trunk).eval()
        except (OSError, RuntimeError) as exc:  # URLError is an OSError
            raise WeightsNotFoundError(
                f"could not load LPIPS ({net}) weights ({exc}); place {url} at {path} and retry."
            ) from exc
        for p in self.model.parameters():
            p.requires_grad_(False)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape != b.shape or a.ndim != 4:
            raise ShapeError(f"LPIPS needs two image batches (N, C, H, W) of one shape; got {a.shape} and {b.shape}.")
        if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
            raise NonFiniteError("LPIPS inputs contain NaN or infinite pixels.")
        return self.model(a, b, normalize=False).flatten()


@torch.no_grad()
def lpips_distance(
    a: Any, b: Any, net: str = "alex", *, batch_size: int = 64, device: Any = None, allow_download: bool = False,
    model: LPIPS | None = None,
) -> np.ndarray:  # fmt: skip
    """LPIPS between paired images ``a[i]``, ``b[i]`` in [-1, 1] (N, C, H, W), batched; returns float64 (N,)."""
    dev = torch.device("cpu") if device is None else torch.device(device)
    model = (model or LPIPS(net, allow_download=allow_download)).to(dev)
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    out = [model(a[s : s + batch_size].to(dev).float(), b[s : s + batch_size].to(dev).float()).double().cpu()
           for s in range(0, a.shape[0], batch_size)]  # fmt: skip
    return torch.cat(out).numpy()
