"""``ganlab multigan-boosting ...``: ``train-gan``, ``weights`` (cli_gan.py), ``train-classifier``, ``ensemble``
(reproductions: ``ganlab repro run multigan-boosting/EXP``).

    ganlab multigan-boosting train-classifier classify --scale smoke --run-dir runs/mg/filter
    ganlab multigan-boosting train-classifier classify --scale smoke --generators runs/mg/gan_0 \
        --filter runs/mg/filter/classifier.pt --run-dir runs/mg/on_gan
    ganlab multigan-boosting ensemble runs/mg/gan_0 runs/mg/gan_1 --weights 0.75 0.25 -n 100 \
        --out-file runs/mg/samples.npz
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganlab.core.config import SCALES


def _config_path(name: str) -> Path:
    from ganlab.core.errors import ConfigError
    from ganlab.multigan_boosting.repro import CONFIGS

    p = Path(name)
    if p.is_file():
        return p
    shipped = CONFIGS / (p.name if p.suffix in (".yaml", ".yml") else f"{p.name}.yaml")
    if shipped.is_file():
        return shipped
    names = sorted(q.stem for q in CONFIGS.glob("*.yaml") if not q.stem.startswith("_"))
    raise ConfigError(f"config {name!r} is neither a file nor a shipped config ({', '.join(names)})")


def _generators(paths, device):
    from ganlab.core.train.checkpoint import load_generator
    from ganlab.multigan_boosting.boost import selected_generator

    return [selected_generator(p, device) if Path(p).is_dir() else load_generator(p, device)[0].eval() for p in paths]


def _train_classifier(args: argparse.Namespace) -> int:
    from ganlab.multigan_boosting.classify import ClassifyConfig, resolve_device, run_classify
    from ganlab.multigan_boosting.repro import load_repro_config

    rc = load_repro_config(_config_path(args.config), args.scale, args.overrides)
    src = rc.source
    if args.generators:
        src.generators = list(args.generators)
    if args.weights:
        src.weights = [float(w) for w in args.weights]
    if args.filter:
        src.filter = args.filter
    name = Path(args.config).stem
    cfg = ClassifyConfig(
        name=name, seed=args.seed, device=args.device, data=rc.data, source=src, classifier=rc.classifier
    )
    cfg.validate()  # every input check before a file is written
    gens = _generators(src.generators, resolve_device(cfg.device)) if src.generators else None
    out = Path(args.run_dir or Path("runs/multigan") / name)
    _, rec = run_classify(cfg, generators=gens, out=out, progress=True)
    keys = ("best_test_accuracy", "val_selected_test_accuracy", "final_test_accuracy", "acceptance_rate", "protocol")
    print(json.dumps({**{k: rec[k] for k in keys if k in rec}, "run_dir": str(out)}, indent=2))
    return 0


def _ensemble(args: argparse.Namespace) -> int:
    """Class-sequential samples of an ensemble (the 5k FID protocol: n / K per class, one generator per batch)."""
    import io

    import numpy as np
    import torch

    from ganlab.core.errors import ConfigError
    from ganlab.core.fileio import atomic_write_bytes
    from ganlab.multigan_boosting.ensemble import Ensemble
    from ganlab.multigan_boosting.synthetic import truncated_normal

    ens = Ensemble(_generators(args.runs, args.device), args.weights, seed=args.seed)
    k = ens.num_classes
    if args.num < k or args.num % k:
        raise ConfigError(f"-n {args.num} must be a positive multiple of the {k} classes (class-sequential export)")
    g = torch.Generator().manual_seed(args.seed)
    xs, ys, picks = [], [], []
    with torch.no_grad():
        for c in range(k):
            for s in range(0, args.num // k, args.batch_size):
                m = min(args.batch_size, args.num // k - s)
                i = ens.choose()
                G = ens.generators[i]
                z = truncated_normal((m, int(G.z_dim)), args.truncation, g).to(args.device)
                y = torch.full((m,), c, dtype=torch.long)
                x = G(z, y.to(args.device)).float().cpu()
                xs.append(((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))
                ys.append(y)
                picks.append(i)
    buf = io.BytesIO()
    np.savez(buf, x=torch.cat(xs).numpy(), y=torch.cat(ys).numpy())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out, buf.getvalue())
    counts = np.bincount(picks, minlength=len(ens)).tolist()
    print(json.dumps({"out": args.out, "n": args.num, "batches_per_generator": counts}, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from ganlab.core.cli import add_num, add_out, add_overrides_argument
    from ganlab.core.repro import add_repro_command

    parser = subparsers.add_parser(
        "multigan-boosting", help="Boosting Generative Networks for Incremental Learning (Slim 2020)"
    )
    sub = parser.add_subparsers(dest="multigan_command", metavar="ACTION")
    try:
        from ganlab.multigan_boosting.cli_gan import add_gan_commands
    except ModuleNotFoundError as exc:  # part of the package not there yet: say so instead of failing the whole CLI
        if exc.name != "ganlab.multigan_boosting.cli_gan":
            raise
        for cmd in ("train-gan", "weights"):
            p = sub.add_parser(cmd, help="(not available in this install)")
            p.set_defaults(func=lambda a: (print("this command is not available in this install"), 1)[1])
    else:
        add_gan_commands(sub)

    t = sub.add_parser("train-classifier", help="a ResNet-20 on real data or on samples of GAN runs (Tables 1, 3)")
    t.add_argument("config", help="a classifier config (shipped: classify, table1_M, ...) or a YAML path")
    add_overrides_argument(t)
    t.add_argument("--scale", choices=SCALES, default=None)
    t.add_argument("--run-dir", default=None, help="output folder (default runs/multigan/<config>)")
    t.add_argument("--generators", nargs="+", default=None, help="GAN run dirs / G_ema.pt (none: real data)")
    t.add_argument("--weights", nargs="+", type=float, default=None, help="per-generator choice weights")
    t.add_argument("--filter", default=None, help="a classifier checkpoint used as the sample filter")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto")
    t.set_defaults(func=_train_classifier)

    e = sub.add_parser("ensemble", help="class-sequential samples of an ensemble of GAN runs (.npz, uint8)")
    e.add_argument("runs", nargs="+", help="GAN run directories (their selected G) or G_ema.pt files")
    e.add_argument("--weights", nargs="+", type=float, default=None, help="per-generator choice weights")
    add_num(e, "samples (a multiple of the class count; the 5k protocol)", default=5000)
    e.add_argument("--batch-size", type=int, default=50)
    e.add_argument("--truncation", type=float, default=None, help="psi of the truncated normal z")
    add_out(e, "file", "the .npz written (uint8 NHWC images x, labels y)", required=True)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=_ensemble)

    add_repro_command(sub, "multigan-boosting")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
