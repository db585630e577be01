"""The evaluation network a protocol names, with the protocol's resize in front of it.

``clean``, ``torchvision`` and ``none`` are the network's own preprocessing (chosen by the network and its
``image_size`` option); ``tf_bilinear`` puts :func:`ganlab.core.features.resize.resized_extractor` (the TF1 graph's
bilinear resize on uint8-quantised images) in front of the network, per batch.
"""

from __future__ import annotations

from typing import Any

from ganlab.core.evaluation.protocol import EvalProtocol


def protocol_extractor(protocol: EvalProtocol, **options: Any) -> Any:
    """``protocol``'s network (``options`` override its extractor options, e.g. ``output="logits"``), resized as it
    declares."""
    from ganlab.core.features import get_extractor
    from ganlab.core.features.resize import resized_extractor

    ext = get_extractor(protocol.network.name, **{**protocol.extractor_options(), **options})
    if protocol.resize.method == "tf_bilinear":
        return resized_extractor(ext, "tf_bilinear", protocol.resize.size)
    return ext
