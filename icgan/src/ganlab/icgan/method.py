"""The ``icgan`` training method: IC-GAN (eq. 1) and class-conditional IC-GAN as hooks on the core trainer.

Config::

    model: {backbone: icgan64_ch64}            # any G/D with feat_dim > 0 (core's BigGAN instance conditioning)
    method:
      name: icgan
      options:
        extractor: swav                        # any core extractor by name, or classifier:auto (in-domain)
        features: null                         # or a folder from `ganlab icgan features`
        neighbours: null                       # or a file from `ganlab icgan neighbours`
        k: 50                                  # 50 ImageNet, 5 ImageNet-LT and COCO-Stuff
        feature_augmentation: true             # 50 % flipped-instance features ("DA (i)")
        hflip: true                            # 50 % flipped real images ("DA (d)")
        diffaugment: ""                        # "translation" for ImageNet-LT / COCO-Stuff

D's real half is conditioned on the features of the instance whose neighbour it sees, the fake half on G's own
conditioning; both halves go through D in one forward pass (official ``G_D`` with ``split_D=False``), so spectral
norm takes one power iteration per D step as in the official code. The method works on any dataset the trainer is
given, a subset view included (features and neighbourhoods are then those of the view's items).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganlab.core.errors import CheckpointError, ConfigError, DatasetError, ShapeError
from ganlab.core.train.method import METHODS, Batch, Method
from ganlab.icgan.augment import check_policy, diff_augment, hflip
from ganlab.icgan.data import BALANCES, ConditioningDraws, NeighbourSampler, class_balanced_weights
from ganlab.icgan.features import InstanceFeatures, cached_instance_features
from ganlab.icgan.neighbours import Neighbourhoods, check_k, compute_neighbourhoods

if TYPE_CHECKING:  # pragma: no cover
    from ganlab.core.train.trainer import Trainer

log = logging.getLogger(__name__)


@dataclass
class ICGANOptions:
    """Options of :class:`ICGAN` (defaults: the official ImageNet 64x64 IC-GAN run)."""

    extractor: str = "swav"  # SwAV for IC-GAN, resnet50 (supervised) for cc-IC-GAN; classifier:auto = in-domain
    extractor_options: dict[str, Any] = field(default_factory=dict)
    features: str | None = None  # a feature folder (`ganlab icgan features`); None: extract into cache_dir
    neighbours: str | None = None  # a neighbour file (`ganlab icgan neighbours`); None: compute into cache_dir
    k: int = 50
    feature_augmentation: bool = True
    hflip: bool = True
    diffaugment: str = ""
    which_knn_balance: str = "instance_balance"
    cache_dir: str | None = None  # default: <run dir>/icgan
    feature_batch_size: int = 256
    knn_batch_size: int = 16384
    classifier: dict[str, Any] = field(default_factory=dict)  # classifier:auto: arch, epochs, seed, holdout
    split_d: bool = False  # True: separate D passes for real and fake (the official default is one pass)

    def validate(self) -> None:
        if self.which_knn_balance not in BALANCES:
            raise ConfigError(f"which_knn_balance must be one of {', '.join(BALANCES)}, got {self.which_knn_balance!r}")
        check_policy(self.diffaugment)
        if not isinstance(self.k, int) or self.k < 1:
            raise ConfigError(f"method.options.k must be a positive integer, got {self.k!r}")


def conditioning_dims(G: Any, D: Any) -> tuple[int, bool]:
    """(feat_dim, class-conditional) of an instance-conditioned G/D pair; ConfigError for any other pair."""
    feat_dim = int(getattr(G, "feat_dim", 0) or 0)
    if not feat_dim:
        raise ConfigError(
            "method icgan needs an instance-conditioned generator (feat_dim > 0), e.g. model.backbone: icgan64_ch64 "
            "or model.options.feat_dim: 2048 for the biggan family"
        )
    d_dim = int(getattr(D, "feat_dim", 0) or 0)
    if d_dim != feat_dim:
        raise ConfigError(f"G takes {feat_dim}-d instance features but D takes {d_dim}-d; give both the same feat_dim")
    uses = getattr(G, "uses_class_input", None)
    cc = bool(uses) if uses is not None else bool(getattr(G, "num_classes", 0))
    return feat_dim, cc


@METHODS.register("icgan")
class ICGAN(Method):
    """Instance-conditioned GAN training; ``features`` / ``neighbourhoods`` may be handed in directly."""

    name = "icgan"
    Options = ICGANOptions

    def __init__(
        self,
        options: Any = None,
        features: InstanceFeatures | None = None,
        neighbourhoods: Neighbourhoods | None = None,
    ) -> None:
        super().__init__(options)
        self.options.validate()
        self.features = features
        self.neighbourhoods = neighbourhoods
        self.draws: ConditioningDraws | None = None
        self.class_conditional = False
        self._pending_state: dict[str, Any] | None = None

    # ----------------------------------------------------------------------------------------------- set-up
    def cache_dir(self, run: Trainer) -> Path:
        return Path(self.options.cache_dir) if self.options.cache_dir else run.run_dir.path / "icgan"

    def setup(self, run: Trainer) -> None:
        opts = self.options
        ds = run.dataset
        feat_dim, self.class_conditional = conditioning_dims(run.unwrap(run.G), run.unwrap(run.D))
        if run.cfg.eval.metrics:
            raise ConfigError(
                "the trainer's eval.metrics draw unconditioned samples; evaluate an IC-GAN run with "
                "`ganlab icgan evaluate --run-dir RUN` (conditionings from stored instances) and leave eval.metrics "
                "empty"
            )
        n_cls = int(getattr(ds, "num_classes", 0) or 0)
        if (self.class_conditional or opts.which_knn_balance == "nnclass_balance") and n_cls == 0:
            raise DatasetError(
                f"a class-conditional IC-GAN (or nnclass_balance) needs class labels, but dataset "
                f"{getattr(ds, 'name', '?')!r} is unlabelled; use an unlabelled IC-GAN (num_classes: 0)"
            )
        if self.class_conditional and n_cls > int(run.unwrap(run.G).num_classes):
            raise ConfigError(f"the dataset has {n_cls} classes but G embeds {run.unwrap(run.G).num_classes}")
        check_k(opts.k, len(ds))
        cache = self.cache_dir(run)
        with run.accelerator.main_process_first():
            if self.features is None:
                self.features = self._features(run, feat_dim, cache)
            else:
                self.features.check_dataset(ds)
            if self.features.dim != feat_dim:
                raise ShapeError(
                    f"the instance features are {self.features.dim}-d but the model takes {feat_dim}-d features "
                    "(model.options.feat_dim)"
                )
            if self.neighbourhoods is None:
                self.neighbourhoods = self._neighbourhoods(run, cache)
        self.neighbourhoods.check(self.features, ds)
        if self.neighbourhoods.k > opts.k:
            self.neighbourhoods = self.neighbourhoods.truncated(opts.k)
        elif self.neighbourhoods.k < opts.k:
            raise ConfigError(f"the neighbour file has k={self.neighbourhoods.k} < method.options.k={opts.k}")
        need_labels = self.class_conditional or opts.which_knn_balance == "nnclass_balance"
        self.draws = ConditioningDraws(
            self.neighbourhoods.indices,
            np.asarray(ds.labels) if need_labels else None,
            seed=run.cfg.seed,
            rank=run.rank,
            world_size=run.world_size,
            feature_augmentation=opts.feature_augmentation and self.features.has_flip,
            hflip=opts.hflip,
            balance=opts.which_knn_balance,
            num_classes=n_cls,
        )
        if opts.feature_augmentation and not self.features.has_flip:
            log.warning("feature_augmentation is on but the features hold no flipped copies; it is skipped")
        if run.is_main:
            self._write_manifest(run, cache)
        if run.is_main and getattr(run, "resume_path", None) is None:  # once per run: a resume keeps the first one
            run.run_dir.log_metrics(
                {
                    "event": "icgan_setup",
                    "instances": len(ds),
                    "k": self.neighbourhoods.k,
                    "features_fingerprint": self.features.fingerprint,
                    "extractor": self.features.meta.get("extractor"),
                    "class_conditional": self.class_conditional,
                    "mean_radius": float(np.mean(self.neighbourhoods.radii)),
                }
            )

    def _write_manifest(self, run: Trainer, cache: Path) -> None:
        """``<run>/icgan/run.json``: where this run's features and neighbourhoods live (read by ``load_run``)."""
        import json

        from ganlab.core.results import atomic_write_text

        if self.features.path is None:  # handed in as arrays: keep a copy with the run
            from ganlab.icgan.features import save_features

            self.features.path = save_features(self.features, cache / f"features_{self.features.fingerprint}")
        nb_path = cache / f"neighbours_{self.features.fingerprint}_k{self.neighbourhoods.k}.npz"
        if not nb_path.is_file():
            self.neighbourhoods.save(nb_path)
        manifest = {
            "features": str(Path(self.features.path).resolve()),
            "neighbours": str(nb_path.resolve()),
            "k": self.neighbourhoods.k,
            "class_conditional": self.class_conditional,
            "features_fingerprint": self.features.fingerprint,
        }
        atomic_write_text(run.run_dir.path / "icgan" / "run.json", json.dumps(manifest, indent=2))

    def _features(self, run: Trainer, feat_dim: int, cache: Path) -> InstanceFeatures:
        opts = self.options
        if opts.features:
            feats = InstanceFeatures.load(opts.features)
            feats.check_dataset(run.dataset)
            return feats
        name = opts.extractor
        if name == "classifier:auto":
            from ganlab.icgan.features_auto import auto_classifier

            name = "classifier:" + str(auto_classifier(run.dataset, cache, run.device, **opts.classifier))
        return cached_instance_features(
            run.dataset,
            name,
            cache,
            extractor_options=opts.extractor_options,
            flip=True,
            batch_size=opts.feature_batch_size,
            device=run.device,
            progress=run.cfg.train.progress and run.is_main,
            expected_dim=feat_dim,
        )

    def _neighbourhoods(self, run: Trainer, cache: Path) -> Neighbourhoods:
        opts = self.options
        if opts.neighbours and Path(opts.neighbours).is_file():
            return Neighbourhoods.load(opts.neighbours, self.features, run.dataset)
        fp = self.features.fingerprint
        path = Path(opts.neighbours) if opts.neighbours else cache / f"neighbours_{fp}_k{opts.k}.npz"
        if path.is_file():
            return Neighbourhoods.load(path, self.features, run.dataset)
        nb = compute_neighbourhoods(
            self.features,
            opts.k,
            batch_size=opts.knn_batch_size,
            dataset_fingerprint=getattr(run.dataset, "fingerprint", None),
        )
        if run.is_main:
            nb.save(path)
        return nb

    def sampler(self, run: Trainer):
        from ganlab.core.data.samplers import InfiniteSampler, WeightedSampler

        n = len(run.dataset)
        if self.options.which_knn_balance == "nnclass_balance":
            w = class_balanced_weights(np.asarray(run.dataset.labels), int(run.dataset.num_classes))
            base = WeightedSampler(w, seed=run.cfg.seed, rank=run.rank, world_size=run.world_size)
        else:
            base = InfiniteSampler(n, seed=run.cfg.seed, rank=run.rank, world_size=run.world_size)
        return NeighbourSampler(base, self.draws)

    # ------------------------------------------------------------------------------------------------- data
    def conditioning(self, idx: np.ndarray, flip: np.ndarray | None, device: Any) -> torch.Tensor:
        """Unit instance features of ``idx`` (flipped-image features where ``flip``) on ``device``."""
        return self.features.get(idx, flip).to(device, non_blocking=True)

    def next_real(self, run: Trainer) -> Batch:
        batch = run.next_batch("main")
        draw = run.sampler_of("main").last
        batch["cond"] = self.conditioning(draw.instance_idx, draw.feat_flip, run.device)
        batch["instance"] = torch.from_numpy(draw.instance_idx.copy()).to(run.device)
        if self.options.hflip:
            batch["image"] = hflip(batch["image"], torch.from_numpy(draw.image_flip))
        return batch

    def sample_fake(self, run: Trainer, n: int, real: Batch | None = None) -> Batch:
        draw = self.draws.fake(n)
        z = torch.randn(n, run.z_dim, device=run.device)
        cond = self.conditioning(draw.instance_idx, draw.feat_flip, run.device)
        out: Batch = {"z": z, "cond": cond, "instance": torch.from_numpy(draw.instance_idx).to(run.device)}
        y = None
        if self.class_conditional:
            y = torch.from_numpy(draw.labels).to(run.device)
            out["label"] = y
        out["image"] = run.G(z, y=y, feat=cond)
        return out

    # ----------------------------------------------------------------------------------------------- losses
    def d_forward(self, run: Trainer, batch: Batch, module=None) -> dict[str, torch.Tensor]:
        d = module if module is not None else run.D
        x = batch["image"]
        if self.options.diffaugment:
            x = diff_augment(x, self.options.diffaugment)
        y = batch.get("label") if self.class_conditional else None
        return d(x, y=y, feat=batch["cond"])

    def d_loss(self, run: Trainer, real: Batch, fake: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        if self.options.split_d:
            return super().d_loss(run, real, fake)
        n_f = fake["image"].shape[0]
        both: Batch = {
            "image": torch.cat([fake["image"].detach(), real["image"]]),
            "cond": torch.cat([fake["cond"], real["cond"]]),
        }
        if self.class_conditional:
            both["label"] = torch.cat([fake["label"], real["label"]])
        out = self.d_forward(run, both)["adv"]
        loss_f = run.loss.d_fake(out[:n_f]).mean()
        loss_r = run.loss.d_real(out[n_f:]).mean()
        return loss_r + loss_f, {"d_loss_real": loss_r.detach(), "d_loss_fake": loss_f.detach()}

    # ------------------------------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "draws": self.draws.state_dict() if self.draws is not None else None,
            "features_fingerprint": self.features.fingerprint if self.features is not None else None,
            "k": self.neighbourhoods.k if self.neighbourhoods is not None else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        if self.features is not None and state.get("features_fingerprint") not in (None, self.features.fingerprint):
            raise CheckpointError(
                "this checkpoint was trained on other instance features; resume with the features the run started with"
            )
        if state.get("draws") and self.draws is not None:
            saved = dict(state["draws"])
            real_calls = self.draws.calls[1]
            self.draws.load_state_dict(saved)
            self.draws.calls[1] = real_calls  # the real stream's counter is restored with the sampler (per rank)

    # --------------------------------------------------------------------------------------------- outputs
    def grid_features(self, run: Trainer, n: int) -> torch.Tensor | None:
        """One conditioning instance per grid row (fixed, seeded), different z along the row."""
        if self.features is None:
            return None
        cols = max(1, int(np.sqrt(n)))
        rows = -(-n // cols)
        rng = np.random.default_rng([run.cfg.seed, 4242])
        inst = rng.choice(len(self.features), size=rows, replace=rows > len(self.features))
        return self.conditioning(np.repeat(inst, cols)[:n], None, run.device)

    def instance_scores(self, run: Trainer) -> dict[str, Any] | None:
        """Per instance: the radius of its neighbourhood (distance to the k-th neighbour between unit features) and
        its in-degree (how many neighbourhoods it belongs to, i.e. how often D sees it as a real sample)."""
        if self.neighbourhoods is None:
            return None
        return instance_scores(self.neighbourhoods)


def instance_scores(neighbourhoods: Neighbourhoods) -> dict[str, np.ndarray]:
    """``{"neighbourhood_radius", "neighbour_in_degree"}`` aligned with the dataset positions."""
    return {
        "neighbourhood_radius": neighbourhoods.radii.astype(np.float64),
        "neighbour_in_degree": neighbourhoods.in_degree().astype(np.float64),
    }


@dataclass
class BaselineOptions:
    """The BigGAN baselines of the IC-GAN paper: vanilla training with the same augmentations."""

    hflip: bool = False  # "DA (d)": 50 % flipped real images
    diffaugment: str = ""  # "translation" (ImageNet-LT, COCO-Stuff)

    def validate(self) -> None:
        check_policy(self.diffaugment)


@METHODS.register("icgan_baseline")
class BigGANBaseline(Method):
    """Class-conditional or unconditional (constant labels, a G with ``constant_conditioning``) BigGAN with the
    official hflips / DiffAugment; both D halves in one pass as in the official code."""

    name = "icgan_baseline"
    Options = BaselineOptions

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.options.validate()

    def next_real(self, run: Trainer) -> Batch:
        batch = run.next_batch("main")
        if self.options.hflip:
            flip = torch.rand(batch["image"].shape[0]) < 0.5
            batch["image"] = hflip(batch["image"], flip)
        return batch

    def d_forward(self, run: Trainer, batch: Batch, module=None) -> dict[str, torch.Tensor]:
        d = module if module is not None else run.D
        x = diff_augment(batch["image"], self.options.diffaugment) if self.options.diffaugment else batch["image"]
        return d(x, y=batch.get("label") if run.num_classes else None)

    def d_loss(self, run: Trainer, real: Batch, fake: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        n_f = fake["image"].shape[0]
        both: Batch = {"image": torch.cat([fake["image"].detach(), real["image"]])}
        if run.num_classes:
            both["label"] = torch.cat([fake["label"], real["label"]])
        out = self.d_forward(run, both)["adv"]
        loss_f = run.loss.d_fake(out[:n_f]).mean()
        loss_r = run.loss.d_real(out[n_f:]).mean()
        return loss_r + loss_f, {"d_loss_real": loss_r.detach(), "d_loss_fake": loss_f.detach()}
