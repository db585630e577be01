"""ganlab.icgan: Instance-Conditioned GAN (Casanova, Careil, Verbeek, Drozdzal, Romero-Soriano; NeurIPS 2021).

- :mod:`ganlab.icgan.features`: instance features (streamed to disk, L2-normalised at load);
- :mod:`ganlab.icgan.neighbours`: the k cosine nearest neighbours A_i of every instance (self excluded);
- :mod:`ganlab.icgan.data`: neighbour sampling for D and independent conditionings for G;
- :mod:`ganlab.icgan.method`: the ``icgan`` training method on the core trainer;
- :mod:`ganlab.icgan.instances`: stored instances (k-means / random / all) for sampling;
- :mod:`ganlab.icgan.generate`, :mod:`ganlab.icgan.transfer`: samples, sheets, conditioning on new images;
- :mod:`ganlab.icgan.evaluate`: FID / IS / P-R-D-C / LPIPS with the protocol saved;
- :mod:`ganlab.icgan.presets`: the official configs' backbones and parameter counts;
- :mod:`ganlab.icgan.repro`: the reproduction experiments.
"""

__version__ = "0.1.0"

# Names are imported on first use, so that registering the ``ganlab icgan`` commands does not load torch.
from ganlab.core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    dict.fromkeys(
        [
            "ICGAN",
            "ICGANOptions",
            "InstanceFeatures",
            "Neighbourhoods",
            "Sampler",
            "StoredInstances",
            "compute_neighbourhoods",
            "extract_instance_features",
            "generate",
            "instance_scores",
            "load_run",
            "select_instances",
        ],
        "api",
    ),
)
