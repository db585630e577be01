"""``ganlab train``, ``ganlab sample`` and ``ganlab demo`` (argument parsing only; the work is done by the APIs).

    ganlab train sngan32_cifar --scale smoke --run-dir runs/sn train.steps=100 optim.n_dis=2
    ganlab train runs/sn/config.yaml --run-dir runs/sn --resume train.steps=2000   # continue (more steps is safe)
    ganlab sample --run-dir runs/demo --out-file grid.png -n 64            # a grid from G_ema
    ganlab sample --run-dir runs/demo --out-file fakes.npz -n 10000 --drs  # DRS-filtered images as uint8 NHWC
    ganlab demo --out-dir runs                                             # train + evaluate a small GAN, CPU

CONFIG is a YAML path or the name of a config shipped in ``ganlab/core/configs`` (``ganlab train --list``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganlab.core.config import SCALES
from ganlab.core.errors import CheckpointError, ConfigError, GanlabError


def _cmd_train(args: argparse.Namespace) -> int:
    from ganlab.core.train.config import list_configs, load_experiment

    if args.list:
        print("\n".join(list_configs()))
        return 0
    if not args.config:
        raise ConfigError(
            "name a config: `ganlab train CONFIG [key=value ...]` (`ganlab train --list` shows the shipped ones)"
        )
    if args.resume and args.resume_from:
        raise ConfigError("pass either --resume (the run's latest checkpoint) or --resume-from CHECKPOINT, not both")
    if args.resume_from and not Path(args.resume_from).is_file():
        raise CheckpointError(f"--resume-from {args.resume_from}: no such checkpoint file")
    if args.stop_at is not None and args.stop_at < 1:
        raise ConfigError(f"--stop-at must be a step >= 1, got {args.stop_at}")
    cfg = load_experiment(args.config, args.overrides, args.scale)
    from ganlab.core.train.trainer import Trainer

    trainer = Trainer(
        cfg,
        run_dir=args.run_dir,
        resume=args.resume_from or bool(args.resume),
        allow_config_change=args.allow_config_change,
        init_from=args.init_from,
    )
    summary = trainer.fit(stop_at=args.stop_at)
    if trainer.is_main:
        trainer.export_generator()
        print(json.dumps({"run_dir": str(trainer.run_dir.path), **summary}, indent=2))
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    if args.num < 1:
        raise GanlabError(f"-n/--num must be >= 1 (samples to write), got {args.num}")
    if args.batch_size < 1:
        raise GanlabError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.truncation is not None and not args.truncation > 0:
        raise GanlabError(f"--truncation must be > 0, got {args.truncation}")
    import torch

    from ganlab.core.images import write_samples
    from ganlab.core.sampling import generate_samples
    from ganlab.core.train.checkpoint import latest_checkpoint, load_models

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    ckpt = latest_checkpoint(args.run)
    critic = args.drs_model if args.drs else "__none__"
    G, D, cfg, state = load_models(ckpt, device=device, ema=not args.no_ema, critic=critic)
    if args.drs and D is None:
        raise CheckpointError(f"{ckpt} holds no model {args.drs_model!r} to use as the DRS critic")
    drs_options = {"percentile": args.drs_percentile, "burn_in": args.drs_burn_in}
    samples = generate_samples(
        G,
        args.num,
        batch_size=args.batch_size,
        truncation=args.truncation,
        truncation_method=args.truncation_method,
        label=args.label,
        drs_critic=D if args.drs else None,
        drs_options=drs_options,
        seed=args.seed,
        device=device,
    )
    out = write_samples(samples, args.out)
    info = {"checkpoint": str(ckpt), "step": state["step"], "out": str(out), "n": args.num}
    if "drs_acceptance" in samples:
        info["drs_acceptance"] = float(samples["drs_acceptance"])
    print(json.dumps(info))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from ganlab.core.train.demo import run_demo

    overrides = list(args.overrides)
    if args.steps is not None:
        overrides.append(f"train.steps={args.steps}")
    result = run_demo(args.out_dir, overrides=overrides, n_eval=args.n_eval)
    print((result.path / "summary.md").read_text())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train``, ``sample`` and ``demo`` to the ``ganlab`` command."""
    from ganlab.core.cli import add_config_out_dir, add_num, add_out, add_overrides_argument, add_run

    p = subparsers.add_parser("train", help="train a GAN from a YAML config (any method, any backbone)")
    p.add_argument("config", nargs="?", help="a YAML file, or the name of a shipped config (see --list)")
    add_overrides_argument(p)
    p.add_argument("--list", action="store_true", help="list the shipped configs and exit")
    p.add_argument("--scale", choices=SCALES, default=None, help="apply the config's scales.<scale> section")
    p.add_argument("--run-dir", default=None, help="the run folder (default: <out_dir>/<config name>)")
    add_config_out_dir(p)
    p.add_argument("--resume", action="store_true", help="continue the run from its latest checkpoint")
    p.add_argument("--resume-from", default=None, metavar="CHECKPOINT", help="continue from this checkpoint file")
    p.add_argument("--allow-config-change", action="store_true", help="resume even if the config changed")
    p.add_argument("--init-from", default=None, metavar="CHECKPOINT", help="start from another run's weights+step")
    p.add_argument("--stop-at", type=int, default=None, help="stop (with a checkpoint) after this step")
    p.set_defaults(func=_cmd_train)

    s = subparsers.add_parser("sample", help="generate images from a trained run (grid, folder or npz)")
    add_run(s, "a run directory (its latest checkpoint) or a checkpoint file")
    add_out(s, "either", "*.png: one grid; *.npz: uint8 NHWC images + labels; a folder: one PNG each", required=True)
    add_num(s, "number of samples", default=64)
    s.add_argument("--batch-size", type=int, default=256)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--class", dest="label", type=int, default=None, help="a fixed class (conditional G)")
    s.add_argument("--no-ema", action="store_true", help="use the live G instead of G_ema")
    s.add_argument("--truncation", type=float, default=None, metavar="PSI", help="truncate z to [-psi, psi]")
    s.add_argument("--truncation-method", choices=["resample", "scipy"], default="resample")
    s.add_argument("--drs", action="store_true", help="discriminator rejection sampling (Azadi et al. 2019)")
    s.add_argument("--drs-model", default="D", help="the checkpoint model used as DRS critic (e.g. an aux D)")
    s.add_argument("--drs-percentile", type=float, default=80.0)
    s.add_argument("--drs-burn-in", type=int, default=50)
    s.add_argument("--device", default=None)
    s.set_defaults(func=_cmd_sample)

    d = subparsers.add_parser("demo", help="train a small DCGAN on the bundled 5k MNIST (CPU, minutes) and evaluate")
    add_overrides_argument(d)
    d.add_argument("--out-dir", default="runs", help="the run goes to OUT_DIR/demo")
    d.add_argument("--steps", type=int, default=None, help="override train.steps")
    d.add_argument("--n-eval", type=int, default=2000, help="real and fake images for the metrics")
    d.set_defaults(func=_cmd_demo)
