"""The resize before the extractor (moved to :mod:`ganlab.core.features.resize`, shared with IC-GAN)."""

from ganlab.core.features.resize import RESIZES, protocol_resize, resized_extractor, tf1_resize_bilinear

__all__ = ["RESIZES", "protocol_resize", "resized_extractor", "tf1_resize_bilinear"]
