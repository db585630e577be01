"""Feature extractors (Inception, ResNet-50, SwAV, VGG-16, in-domain classifiers, random networks) and batched,
cached feature extraction.

>>> ext = get_extractor("random:lenet")
>>> feats = extract_features(ext, images, batch_size=128)  # images: (N, 1, 32, 32) in [-1, 1]
"""

from ganlab.core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "PROTOCOLS": "classifier",
        "ClassifierProtocol": "classifier",
        "get_protocol": "classifier",
        "label_sampler": "classifier",
        "load_classifier": "classifier",
        "save_classifier": "classifier",
        "train_classifier": "classifier",
        "check_images": "extract",
        "extract_features": "extract",
        "tf32_disabled": "extract",
        "EXTRACTORS": "extractors",
        "FeatureExtractor": "extractors",
        "clean_resize": "extractors",
        "get_extractor": "extractors",
        "list_extractors": "extractors",
        "quantize_uint8": "extractors",
        "WEIGHTS_ENV": "weights",
        "resolve_weights": "weights",
        "sha256_file": "weights",
    },
)
