"""Evaluation of trained runs for the reproductions: fitting capacity on the real test set and FID.

FID (Table 5, Figure 6) is computed on one of two feature networks, named in every record (``fid_extractor``):

- ``inception`` (the paper's, Appendix B: "Fréchet Inception distance"): core's registered extractor (clean-fid's
  Inception, 2048-d pool; any other registered name works the same way), used by the paper-scale configs;
- ``lenet_indomain``: a LeNet-32 trained here on the real training images (84-d penultimate features), used by the
  smoke and mini scales, where Inception on thousands of 28-px digits would cost more than the run (FID in these
  units is not comparable with Inception FID).

Every number comes with its protocol (classifier, sample counts, feature network, resolution).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganlab.gold.capacity import final_capacity, generator_sampler, to_classifier_input

__all__ = ["INDOMAIN", "ExtractorFID", "FeatureFID", "InDomainFID", "build_fid", "final_capacity", "test_set"]

INDOMAIN = "lenet_indomain"  # the name of the in-domain LeNet-32 feature network in configs and records


def test_set(cfg: Any, dataset: Any, options: Any) -> tuple[torch.Tensor, np.ndarray]:
    """The real test set of a run: its held-out training items (``holdout``) or the dataset's ``test_split``."""
    from ganlab.core.data import get_dataset
    from ganlab.core.errors import ConfigError
    from ganlab.gold.method import _holdout, _split_seed

    if options.holdout:
        held = _holdout(len(dataset), options.holdout, _split_seed(cfg.seed, options))
        b = dataset.get_batch(held)
        return b["image"], b["label"].numpy()
    if not options.test_split:
        raise ConfigError("evaluation needs a test set: set method.options.test_split or holdout")
    d = cfg.data
    test = get_dataset(d.name, root=d.root, split=options.test_split, resolution=d.resolution, **d.options)
    b = test.get_batch(np.arange(len(test)))
    return b["image"], b["label"].numpy()


@dataclass
class FeatureFID:
    """FID of images against fixed real statistics, on the features :meth:`features` computes (the subclasses say
    which network). Every result names its network (``fid_extractor``)."""

    real_mu: np.ndarray
    real_sigma: np.ndarray
    n_real: int
    protocol: dict[str, Any]
    name: str

    def features(self, images: torch.Tensor, device: Any = None) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, images: torch.Tensor, device: Any = None) -> dict[str, Any]:
        from ganlab.core.metrics.fid import frechet_distance

        f = self.features(images, device)
        fid = frechet_distance(self.real_mu, self.real_sigma, f.mean(0), np.cov(f, rowvar=False))
        return {
            "fid": float(fid),
            "fid_n_fake": int(len(images)),
            "fid_n_real": self.n_real,
            "fid_extractor": self.name,
        }

    def of_generator(self, G: nn.Module, n: int, num_classes: int, seed: int, device: Any) -> dict[str, Any]:
        """FID of ``n`` samples of ``G``, labels drawn uniformly (torch seed ``seed``), noise from seed ``seed``."""
        g = torch.Generator().manual_seed(seed)
        y = torch.randint(0, num_classes, (n,), generator=g)
        return self(generator_sampler(G, seed=seed, device=device)(y), device)


def _moments(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return f.mean(0), np.cov(f, rowvar=False)


@dataclass
class InDomainFID(FeatureFID):
    """FID on the penultimate (84-d) features of a LeNet-32 trained on the real training images."""

    model: nn.Module | None = None

    @classmethod
    def train(
        cls,
        images: torch.Tensor,
        labels: np.ndarray,
        num_classes: int,
        *,
        device: Any = None,
        seed: int = 0,
        cache: str | Path | None = None,
        **overrides: Any,
    ) -> InDomainFID:
        from ganlab.core.features.classifier import load_classifier, save_classifier, train_classifier

        x = to_classifier_input(images.float())
        if cache is not None and Path(cache).is_file():
            model, _ = load_classifier(cache)
            info = {"cached": str(cache)}
        else:
            proto = {"samples_per_epoch": None, "epochs": 10, **overrides}
            model, info = train_classifier(
                (x, torch.as_tensor(labels)),
                num_classes=num_classes,
                in_channels=x.shape[1],
                device=device,
                seed=seed,
                **proto,
            )
            if cache is not None:
                save_classifier(model, cache, arch="lenet")
        model = model.to(device or "cpu").eval()
        protocol = {"extractor": INDOMAIN, "dim": 84, "trained_on": int(len(x)), "classifier": info.get("protocol")}
        return cls(*_moments(cls._lenet(model, x, device)), len(x), protocol, INDOMAIN, model)

    @staticmethod
    @torch.no_grad()
    def _lenet(model: nn.Module, x: torch.Tensor, device: Any) -> np.ndarray:
        out = [model.features(x[i : i + 1000].to(device or "cpu")).cpu() for i in range(0, len(x), 1000)]
        return torch.cat(out).double().numpy()

    def features(self, images: torch.Tensor, device: Any = None) -> np.ndarray:
        return self._lenet(self.model, to_classifier_input(images.float()), device)


@dataclass
class ExtractorFID(FeatureFID):
    """FID on the features of one of core's registered extractors (``inception`` for the paper's protocol)."""

    extractor: nn.Module | None = None
    batch_size: int = 64

    @classmethod
    def build(
        cls,
        name: str,
        images: torch.Tensor,
        *,
        device: Any = None,
        cache_dir: str | Path | None = None,
        batch_size: int = 64,
        **options: Any,
    ) -> ExtractorFID:
        """Real statistics over ``images`` (stored real data: not re-quantised)."""
        from ganlab.core.features import extract_features, get_extractor

        ext = get_extractor(name, **options)
        f = extract_features(
            ext, images, batch_size=batch_size, device=device, cache_dir=cache_dir, quantize=False, progress=False
        ).astype(np.float64)
        proto = {**ext.protocol(), "fake_quantized_uint8": True}
        return cls(*_moments(f), len(f), proto, name, ext, batch_size)

    def features(self, images: torch.Tensor, device: Any = None) -> np.ndarray:
        from ganlab.core.features import extract_features

        # generated samples are rounded to the 256 levels a saved image holds (the clean-fid protocol for fakes)
        return extract_features(
            self.extractor, images, batch_size=self.batch_size, device=device, quantize=True, progress=False
        ).astype(np.float64)


def build_fid(
    name: str,
    images: torch.Tensor,
    labels: np.ndarray,
    num_classes: int,
    *,
    cache_dir: str | Path | None = None,
    classifier: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    device: Any = None,
) -> InDomainFID | ExtractorFID:
    """The FID of a protocol: ``lenet_indomain`` (trained on ``images``/``labels``) or a registered extractor."""
    if name == INDOMAIN:
        cache = Path(cache_dir) / "fid_lenet.pt" if cache_dir is not None else None
        return InDomainFID.train(images, labels, num_classes, seed=0, cache=cache, device=device, **(classifier or {}))
    cache = Path(cache_dir) / "fid_features" if cache_dir is not None else None
    return ExtractorFID.build(name, images, device=device, cache_dir=cache, **(options or {}))


def fid_for(p: Any, dataset: Any, cache_dir: str | Path) -> InDomainFID | ExtractorFID:
    """The FID of an experiment's protocol ``p`` (its ``fid_*`` settings) against every image of ``dataset``."""
    b = dataset.get_batch(np.arange(len(dataset)))
    return build_fid(
        p.fid_extractor,
        b["image"],
        b["label"].numpy(),
        dataset.num_classes,
        cache_dir=cache_dir,
        classifier=p.fid_classifier,
        options=p.fid_extractor_options,
    )


def run_capacity(trainer: Any, test: tuple[torch.Tensor, np.ndarray], seed: int, capacity: dict[str, Any]):
    """The final fitting capacity of a trained run under the ``capacity`` protocol overrides; reuses the run's own
    evaluation at its last step when it was made under the same protocol."""
    import dataclasses

    from ganlab.core.features.classifier import get_protocol

    h = trainer.method.history
    own = dict(trainer.method.options.capacity)
    if h and h[-1]["step"] == trainer.step and "cap_test" in h[-1] and own == dict(capacity):
        proto = dataclasses.asdict(get_protocol("gold", **capacity))
        return {"cap_test": h[-1]["cap_test"], "n_test": h[-1]["n_test"], "protocol": proto}
    G, n, dev = trainer.G_ema, trainer.num_classes, trainer.device
    return final_capacity(G, test, num_classes=n, seed=seed, device=dev, **capacity)


def run_curves(trainer: Any, baseline: Any = None) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """``(mean GOLD of generated samples, fitting capacity)`` against the epoch over a run; a run continued from
    ``baseline``'s checkpoint starts with the baseline's points before its own first one."""

    def gold(tr: Any) -> list[tuple[float, float]]:
        spe = tr.method.steps_per_epoch
        return [
            (r["step"] / spe, r["gold_mean"]) for r in tr.run_dir.read_metrics() if "gold_mean" in r and "step" in r
        ]

    def capacity(tr: Any) -> list[tuple[float, float]]:
        return [(h["epoch"], h["cap_test"]) for h in tr.method.history if "cap_test" in h]

    out = []
    for curve in (gold, capacity):
        own = curve(trainer)
        if baseline is not None and baseline is not trainer and (own or curve is capacity):
            first = own[0][0] if own else float("inf")
            own = [pt for pt in curve(baseline) if pt[0] < first] + own
        out.append(own)
    return out[0], out[1]
