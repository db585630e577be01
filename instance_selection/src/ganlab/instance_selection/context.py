"""Per-experiment caches of the Instance Selection reproductions: the FULL dataset (selection only changes the
sampler), the in-domain classifier behind ``classifier:auto``, embeddings, the evaluation network and its features
of the real data, each arm's selected subset; and the evaluation of one generator (FID, P/R/D/C, IS).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.config import from_dict
from ganlab.core.results import RunDir
from ganlab.instance_selection.api import UNIFORM, SelectionConfig, embed_dataset, select_instances
from ganlab.instance_selection.evaluate import check_reference, fake_source, prdc_metrics, reference_dataset


def _device() -> torch.device:
    from ganlab.core.processes import process_state

    return process_state().device


class Context:
    """``cfg``: the experiment (``repro.ISExperiment``); its ``protocol`` is core's EvalProtocol."""

    def __init__(self, cfg: Any, run_cfg: Any, run_dir: RunDir) -> None:
        self.cfg, self.protocol, self.run_cfg, self.run_dir = cfg, cfg.protocol, run_cfg, run_dir
        self.device = _device()
        self.dataset = reference_dataset(run_cfg.data)  # the FULL dataset; selection only changes the sampler
        check_reference(self.dataset)
        self._classifier: str | None = None
        self._features: dict[str, np.ndarray] = {}
        self._extractor = None
        self.cache_dir = run_dir.path / "feature_cache"

    def resolve(self, name: str) -> str:
        if name != "classifier:auto":
            return name
        if self._classifier is None:
            self._classifier = str(self._train_classifier())
        return f"classifier:{self._classifier}"

    def _train_classifier(self) -> Path:
        from ganlab.core.features import save_classifier, train_classifier

        path = self.run_dir.path / "classifier.pt"
        if path.is_file():
            return path
        spec, ds = self.cfg.classifier, self.dataset
        n = len(ds)
        order = np.random.default_rng(spec.seed).permutation(n)
        n_test = max(1, n // 10)
        images = ds.get_batch(np.arange(n))["image"]
        labels = torch.as_tensor(ds.labels, dtype=torch.long)
        test, train = order[:n_test], order[n_test:]
        model, info = train_classifier(
            (images[train], labels[train]),
            num_classes=max(ds.num_classes, 1),
            in_channels=images.shape[1],
            test=(images[test], labels[test]),
            protocol="gold",
            arch=spec.arch,
            epochs=spec.epochs,
            samples_per_epoch=None,
            batch_size=spec.batch_size,
            lr=spec.lr,
            seed=spec.seed,
            device=self.device,
        )
        save_classifier(model, path, arch=spec.arch, meta={"test_accuracy": info.get("accuracy")})
        self.run_dir.log_metrics({"event": "classifier", "arch": spec.arch, "test_accuracy": info.get("accuracy")})
        return path

    def embedding(self, name: str, options: dict[str, Any] | None = None) -> np.ndarray:
        key = json.dumps([name, options or {}], sort_keys=True)
        if key not in self._features:
            self._features[key] = embed_dataset(
                self.dataset,
                self.resolve(name),
                batch_size=self.protocol.batch_size,
                device=self.device,
                cache_dir=self.cache_dir,
                progress=False,
                **(options or {}),
            )
        return self._features[key]

    # ------------------------------------------------------------------------------------------- evaluation net
    @property
    def eval_options(self) -> dict[str, Any]:
        """The evaluation network's options as the protocol declares them (weights, ``transform_input``, size)."""
        return self.protocol.extractor_options()

    @property
    def extractor(self):
        if self._extractor is None:
            from ganlab.core.features import get_extractor

            self._extractor = get_extractor(self.resolve(self.protocol.network.name), **self.eval_options)
            self.protocol.check_extractor(self._extractor.resize)
        return self._extractor

    @property
    def logit_extractor(self):
        from ganlab.core.features import get_extractor

        return get_extractor(self.resolve(self.protocol.network.name), **{**self.eval_options, "output": "logits"})

    @property
    def real_features(self) -> np.ndarray:
        return self.embedding(self.protocol.network.name, self.eval_options)

    # ------------------------------------------------------------------------------------------------ selection
    def selection(self, arm: Any):
        if arm.scorer == "none":
            return None
        base = {**self.cfg.selection}
        if arm.embedding is not None:
            base["embedding"] = arm.embedding
            base["embedding_options"] = arm.embedding_options or {}
        if arm.per_class is not None:
            base["per_class"] = arm.per_class
        base.update(scorer=arm.scorer, retention_ratio=arm.retention_ratio)
        cfg = from_dict(SelectionConfig, base, where=f"arm {arm.name}")
        feats = None
        if arm.scorer != UNIFORM:
            feats = self.embedding(cfg.embedding, cfg.embedding_options)
            cfg.embedding = self.resolve(cfg.embedding)
        return select_instances(self.dataset, cfg, features=feats, device=self.device)

    def evaluate(self, trainer: Any, seed: int, psi: float | None, G: torch.nn.Module) -> dict[str, float]:
        """FID of ``n_fake`` fakes against all training images (Brock et al.); P/R/D/C of the first fakes against as
        many reals of the shuffled full set (the run's seed); IS of the same fakes through the network's logits."""
        from ganlab.core.features import extract_features
        from ganlab.core.metrics.fid import fid_from_features
        from ganlab.core.metrics.inception_score import inception_score

        p = self.protocol
        n_fake = p.fake_count(len(self.dataset))
        G.eval()

        def fakes(extractor: Any) -> np.ndarray:  # the same fakes (same seed) through either output of the network
            fn = fake_source(
                G,
                num_classes=trainer.num_classes,
                z_dim=trainer.z_dim,
                device=trainer.device,
                psi=psi,
                truncation_mode=self.cfg.truncation_mode,
                seed=10_000 + seed,
            )
            return extract_features(
                extractor, fn, n=n_fake, batch_size=p.batch_size, device=self.device, progress=False
            )

        fake, real = fakes(self.extractor), self.real_features
        out = {"fid": float(fid_from_features(real, fake))}
        perm = np.random.default_rng(seed if p.prdc.seed is None else p.prdc.seed).permutation(len(real))
        n = min(p.prdc.n_real or len(real), p.prdc.n_fake or len(fake), len(real), len(fake))
        out.update(prdc_metrics(real[perm[:n]], fake[:n], k=p.prdc.k))
        if "is" in p.metrics:
            out["is"], out["is_std"] = inception_score(fakes(self.logit_extractor), splits=p.is_splits)
        return out
