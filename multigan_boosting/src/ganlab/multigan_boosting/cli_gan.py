"""The GAN side of ``ganlab multigan-boosting ...``: ``train-gan`` (the base GAN, or a boosted GAN on Algorithm 1's
weights) and ``weights`` (Algorithm 1 from a real set and previous GAN runs). ``cli.py`` calls :func:`add_gan_commands`.

    ganlab multigan-boosting train-gan biggan32_cifar_multigan --scale smoke --run-dir runs/boost/gan_0
    ganlab multigan-boosting weights biggan32_cifar_multigan --scale smoke --previous runs/boost/gan_0 \
        --feature-net filter.pt --transform B --out-file runs/boost/weights_1.npy
    ganlab multigan-boosting train-gan biggan32_cifar_multigan --scale smoke --weights runs/boost/weights_1.npy \
        --run-dir runs/boost/gan_1
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganlab.core.config import SCALES
from ganlab.core.errors import ConfigError

# weights.TRANSFORMS / SYNTHETIC_SETS, spelled out so that registering the commands does not import torch
# (tests/test_cli_fast.py checks that they agree)
TRANSFORMS = ("A_mu", "A_sigma", "B", "C")
SYNTHETIC_SETS = ("union", "previous")


def _load_cfg(args: argparse.Namespace):
    from ganlab.core.train.config import load_experiment

    return load_experiment(args.config, args.overrides, args.scale)


def _train_gan(args: argparse.Namespace) -> int:
    from ganlab.core.train.trainer import Trainer
    from ganlab.multigan_boosting.boost import load_probs

    cfg = _load_cfg(args)
    if cfg.method.name not in ("vanilla", "multigan_reweighted"):
        raise ConfigError(f"train-gan trains the multigan_reweighted method, but the config says {cfg.method.name!r}")
    cfg.method.name = "multigan_reweighted"
    opts = dict(cfg.method.options)
    if args.weights:
        opts["weights"] = str(Path(args.weights).resolve())
    cfg.method.options = opts
    if opts.get("weights"):  # a clear error before the trainer builds anything
        from ganlab.core.data import get_dataset

        d = cfg.data
        load_probs(
            opts["weights"], len(get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options))
        )
    trainer = Trainer(
        cfg, run_dir=args.run_dir, resume="auto" if args.resume else False, allow_config_change=args.allow_config_change
    )
    summary = trainer.fit()
    export = trainer.export_generator()
    out = {"step": trainer.step, "run_dir": str(trainer.run_dir.path), "G_ema": str(export)}
    best = trainer.run_dir.path / "G_best.pt"
    if best.is_file():
        out.update({"G_best": str(best), "best_fid": trainer.method.best_fid, "best_step": trainer.method.best_step})
    print(json.dumps({**out, "wall_s": summary["wall_s"]}, indent=2))
    return 0


def _feature_net(spec: str, in_channels: int, num_classes: int):
    import torch

    if spec.startswith("random:"):  # an untrained network, for smoke runs only
        from ganlab.core.nn.classifiers import build_classifier

        torch.manual_seed(0)
        return build_classifier(spec.split(":", 1)[1], num_classes=num_classes, in_channels=in_channels).eval()
    from ganlab.core.features.classifier import load_classifier

    if not Path(spec).is_file():
        raise ConfigError(
            f"--feature-net {spec}: no such file; train the filter net with `ganlab features train-classifier` "
            "(Algorithm 1's phi is its pooled features) or pass random:resnet20 for a smoke run"
        )
    return load_classifier(spec)[0].eval()


def _weights(args: argparse.Namespace) -> int:
    import numpy as np

    from ganlab.core.data import get_dataset
    from ganlab.multigan_boosting.boost import compute_weights, save_weights, selected_generator
    from ganlab.multigan_boosting.gan_eval import weights_histogram

    cfg = _load_cfg(args)
    missing = [p for p in args.previous if not Path(p).exists()]
    if missing:
        raise ConfigError(f"--previous: {', '.join(missing)} not found (pass finished run directories, oldest first)")
    out = Path(args.out)
    if out.suffix != ".npy":
        raise ConfigError(f"--out-file must name a .npy file, got {out}")
    d = cfg.data
    ds = get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
    if not ds.num_classes:
        raise ConfigError(f"dataset {d.name!r} has no labels; Algorithm 1 works per class")
    batch = ds.get_batch(np.arange(len(ds)))
    net = _feature_net(args.feature_net, batch["image"].shape[1], ds.num_classes)
    gens = [selected_generator(p, device=args.device) for p in args.previous]
    res = compute_weights(
        batch["image"], batch["label"], gens, net, args.transform, synthetic=args.synthetic, n_per_gan=args.n_per_gan,
        equalize_class_mass=args.equalize_class_mass, seed=args.seed, device=args.device,
    )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    extra = {"previous": list(args.previous), "synthetic": args.synthetic, "feature_net": args.feature_net}
    save_weights(res, out, extra)
    weights_histogram(res.weights, batch["label"].numpy(), out.with_suffix(".png"), f"Algorithm 1, {args.transform}")
    s = res.summary()
    print(json.dumps({k: s[k] for k in s if k != "per_class"} | {"weights": str(out)}, indent=2))
    return 0


def add_gan_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``train-gan`` and ``weights`` on the package's sub-command parser."""
    from ganlab.core.cli import add_config_out_dir, add_out, add_overrides_argument

    t = subparsers.add_parser("train-gan", help="train the base GAN, or a boosted GAN on Algorithm 1's weights")
    t.add_argument("config", help="a core training config (shipped name, e.g. biggan32_cifar_multigan, or a path)")
    t.add_argument("--scale", choices=SCALES, default=None)
    t.add_argument("--run-dir", default=None, help="the run folder (default: <out_dir>/<config name>)")
    add_config_out_dir(t)
    t.add_argument("--weights", default=None, help="Algorithm 1's .npy from `weights` (omit for the base GAN)")
    t.add_argument("--resume", action="store_true", help="continue the run directory's latest checkpoint")
    t.add_argument("--allow-config-change", action="store_true")
    add_overrides_argument(t)
    t.set_defaults(func=_train_gan)

    w = subparsers.add_parser("weights", help="Algorithm 1: sampling weights of the real set from previous GANs")
    w.add_argument("config", help="the training config whose data section is the real set")
    w.add_argument("--scale", choices=SCALES, default=None)
    w.add_argument("--previous", nargs="+", required=True, help="the previous GANs' run directories, oldest first")
    w.add_argument(
        "--feature-net", required=True, help="the filter classifier (.pt from ganlab features train-classifier)"
    )
    w.add_argument("--transform", choices=TRANSFORMS, default="C")
    w.add_argument("--synthetic", choices=SYNTHETIC_SETS, default="union")
    w.add_argument("--equalize-class-mass", action="store_true")
    w.add_argument("--n-per-gan", type=int, default=None, help="samples per previous GAN (default: the real set size)")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--device", default="cpu")
    add_out(w, "file", "the .npy written (+ .json summary, .png histogram)", required=True)
    add_overrides_argument(w)
    w.set_defaults(func=_weights)
