"""Feature extractors (Inception, ResNet-50, SwAV, VGG-16, in-domain classifiers, random networks) and batched,
cached feature extraction.

>>> ext = get_extractor("random:lenet")
>>> feats = extract_features(ext, images, batch_size=128)  # images: (N, 1, 32, 32) in [-1, 1]
"""

from ganlab.core.features.classifier import (
    PROTOCOLS,
    ClassifierProtocol,
    get_protocol,
    label_sampler,
    load_classifier,
    save_classifier,
    train_classifier,
)
from ganlab.core.features.extract import check_images, extract_features, tf32_disabled
from ganlab.core.features.extractors import (
    EXTRACTORS,
    FeatureExtractor,
    clean_resize,
    get_extractor,
    list_extractors,
    quantize_uint8,
)
from ganlab.core.features.weights import WEIGHTS_ENV, resolve_weights, sha256_file

__all__ = [
    "EXTRACTORS",
    "PROTOCOLS",
    "WEIGHTS_ENV",
    "ClassifierProtocol",
    "FeatureExtractor",
    "check_images",
    "clean_resize",
    "extract_features",
    "get_extractor",
    "get_protocol",
    "label_sampler",
    "list_extractors",
    "load_classifier",
    "quantize_uint8",
    "resolve_weights",
    "save_classifier",
    "sha256_file",
    "tf32_disabled",
    "train_classifier",
]
