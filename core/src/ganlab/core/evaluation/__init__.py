"""ganlab.core.evaluation: evaluation protocols declared as data (network, resize, counts, draws, checkpoint rule),
the seeded draws they name, and the checkpoint rule's arithmetic. Beside :mod:`ganlab.core.metrics`, below train.

Names are imported on first use, so that reading a protocol does not load torch.
"""

from ganlab.core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "EvalProtocol": "protocol",
        "NetworkSpec": "protocol",
        "ResizeSpec": "protocol",
        "ReferenceSpec": "protocol",
        "PRDCSpec": "protocol",
        "ConditioningSpec": "protocol",
        "CheckpointRule": "protocol",
        "reference_indices": "draws",
        "draw_labels": "draws",
        "draw_instances": "draws",
        "ConditionedGenerator": "conditioning",
        "protocol_extractor": "extractor",
    },
)
