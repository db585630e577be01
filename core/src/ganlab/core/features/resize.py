"""The resize before a feature extractor, as a named protocol option of a feature metric (Dia-GAN, IC-GAN).

- ``extractor``: whatever the extractor does itself (clean-fid's "clean" bicubic for ``inception``);
- ``tf_bilinear``: the TF Inception graph's own resize (TTUR, mimicry; clean-fid's "legacy_tensorflow"): images
  quantised to uint8, then TF1 ``ResizeBilinear`` to the extractor's input size with ``align_corners=False`` and
  no half-pixel centres, i.e. source coordinate = output index x (in / out), neighbours clamped at the border, no
  antialiasing.

The name goes into every record (``resize``), so numbers computed with different resizes are never mixed.
"""

from __future__ import annotations

import torch

from ganlab.core.errors import ConfigError

RESIZES = ("extractor", "tf_bilinear")


def _tf1_axis(x: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    n = x.shape[dim]
    src = torch.arange(size, dtype=torch.float64) * (n / size)  # TF1 legacy: no half-pixel offset
    lo = src.floor().long().clamp_(0, n - 1)
    hi = (lo + 1).clamp_(max=n - 1)
    frac = (src - lo.double()).to(x.dtype)
    shape = [1] * x.ndim
    shape[dim] = size
    a, b = x.index_select(dim, lo.to(x.device)), x.index_select(dim, hi.to(x.device))
    return a + (b - a) * frac.to(x.device).view(shape)


def tf1_resize_bilinear(x: torch.Tensor, size: int) -> torch.Tensor:
    """TF1 ``tf.image.resize_bilinear(x, (size, size), align_corners=False)`` of (B, C, H, W) images."""
    if x.ndim != 4:
        raise ConfigError(f"tf_bilinear resize needs (B, C, H, W) images, got shape {tuple(x.shape)}")
    return _tf1_axis(_tf1_axis(x, size, 2), size, 3)


def protocol_resize(images: torch.Tensor, name: str, size: int | None) -> torch.Tensor:
    """Images in [-1, 1] as the protocol feeds them to the extractor (``size``: its input size; None: no resize)."""
    if name not in RESIZES:
        raise ConfigError(f"experiment.resize must be one of {', '.join(RESIZES)}, got {name!r}")
    if name == "extractor" or size is None or images.ndim != 4:
        return images
    from ganlab.core.features.extractors import quantize_uint8

    u8 = (quantize_uint8(images.float()) + 1) * 127.5  # the TF graph's uint8 input, as float grey levels
    out = tf1_resize_bilinear(u8, int(size)) if tuple(u8.shape[-2:]) != (size, size) else u8
    return out / 127.5 - 1


def resized_extractor(ext: torch.nn.Module, name: str, size: int | None) -> torch.nn.Module:
    """``ext`` behind the protocol resize, applied per batch (50k images at 299 px would not fit in memory)."""
    from ganlab.core.features.extractors import FeatureExtractor

    if name not in RESIZES:
        raise ConfigError(f"experiment.resize must be one of {', '.join(RESIZES)}, got {name!r}")
    if name == "extractor":
        return ext

    class _Resized(FeatureExtractor):
        channels = None

        def __init__(self) -> None:
            super().__init__()
            self.inner = ext
            self.name, self.dim, self.weights_sha256 = ext.name, ext.dim, ext.weights_sha256
            self.resize = f"{name}({size})" if size else f"{name}(quantised only)"
            self.options = {**ext.options, "protocol_resize": self.resize}

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(protocol_resize(x, name, size))

    return _Resized()
