"""``ganlab train``, ``ganlab sample`` and ``ganlab demo``.

    ganlab train --config sngan32_cifar.yaml --scale smoke train.steps=100 optim.n_dis=2
    ganlab train --config runs/x/config.yaml --resume            # continue from the latest checkpoint
    ganlab sample runs/demo --out grid.png -n 64                  # a grid from G_ema
    ganlab sample runs/demo --out fakes.npz -n 10000 --drs        # DRS-filtered images as uint8 NHWC
    ganlab demo --out-dir runs                                    # the main job, CPU, a few minutes

``--config`` takes a YAML path or the name of a config shipped in ``ganlab/core/configs`` (``ganlab train --list``).
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.config import SCALES, load_config
from ganlab.core.errors import CheckpointError, ConfigError, GanlabError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


# ------------------------------------------------------------------------------------------------------ configs
def list_configs() -> list[str]:
    """Names of the configs shipped with ganlab-core (relative to ``ganlab/core/configs``, without ``.yaml``)."""
    return sorted(str(p.relative_to(CONFIG_DIR).with_suffix("")) for p in CONFIG_DIR.rglob("*.yaml"))


def resolve_config(name: str | Path) -> Path:
    """A YAML path as given, or a shipped config by name (``demo``, ``smoke/dcgan_mnist``)."""
    path = Path(name)
    if path.is_file():
        return path
    for candidate in (CONFIG_DIR / name, CONFIG_DIR / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    from ganlab.core.registry import closest

    hint = closest(str(name), list_configs())
    msg = f"config {str(name)!r} is neither a file nor a shipped config; shipped: {', '.join(list_configs())}"
    raise ConfigError(msg + (f" (did you mean {hint!r}?)" if hint else ""))


def load_experiment(name: str | Path, overrides: list[str] = (), scale: str | None = None):
    """An :class:`ExperimentConfig` from a YAML path or shipped config name, a scale and dotted overrides."""
    from ganlab.core.train.config import ExperimentConfig

    return load_config(ExperimentConfig, resolve_config(name), list(overrides), scale)


# ----------------------------------------------------------------------------------------------------- sampling
def latest_checkpoint(path: str | Path) -> Path:
    """``path`` if it is a file, else the newest ``checkpoints/step_*.pt`` of a run directory."""
    path = Path(path)
    if path.is_file():
        return path
    found = sorted((path / "checkpoints").glob("step_*.pt"))
    if not found:
        raise CheckpointError(f"no checkpoint in {path}/checkpoints; pass a run directory that has trained")
    return found[-1]


def load_models(
    checkpoint: str | Path, device: torch.device | str = "cpu", ema: bool = True, critic: str = "D"
) -> tuple[torch.nn.Module, torch.nn.Module | None, Any, dict[str, Any]]:
    """Rebuild (G, critic, config, checkpoint) from a checkpoint; G is G_ema when saved and ``ema``; eval mode."""
    from ganlab.core.config import from_dict
    from ganlab.core.nn import build_backbone
    from ganlab.core.train.config import ExperimentConfig
    from ganlab.core.train.trainer import Trainer

    state = Trainer._read_checkpoint(Path(checkpoint))
    cfg = from_dict(ExperimentConfig, state["config"])
    G, D = build_backbone(cfg.model.backbone, **cfg.model.options)
    g_state = state["ema"]["model"] if ema and state.get("ema") else state["models"]["G"]
    G.load_state_dict(g_state)
    critic_model = None
    if critic in state["models"]:
        D.load_state_dict(state["models"][critic])
        critic_model = D.to(device).eval()
    return G.to(device).eval(), critic_model, cfg, state


def generate_samples(
    G: torch.nn.Module,
    n: int,
    *,
    batch_size: int = 256,
    truncation: float | None = None,
    truncation_method: str = "resample",
    label: int | None = None,
    drs_critic: torch.nn.Module | None = None,
    drs_options: dict[str, Any] | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> dict[str, torch.Tensor]:
    """``n`` samples ``{"image", "label"}`` from G (truncated z, a fixed class, and/or DRS with ``drs_critic``)."""
    from ganlab.core.sampling import DRS, truncated_normal

    gen = torch.Generator().manual_seed(seed)
    num_classes = int(getattr(G, "num_classes", 0) or 0)

    @torch.no_grad()
    def sample_fn(k: int) -> dict[str, torch.Tensor]:
        z = truncated_normal(k, G.z_dim, truncation, generator=gen, method=truncation_method).to(device)
        y = None
        if num_classes:
            y = torch.full((k,), label) if label is not None else torch.randint(0, num_classes, (k,), generator=gen)
            y = y.to(device)
        out = {"image": G(z, y=y).float()}
        if y is not None:
            out["label"] = y
        return out

    if drs_critic is None:
        parts = [sample_fn(min(batch_size, n - i)) for i in range(0, n, batch_size)]
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}

    @torch.no_grad()
    def logit_fn(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return drs_critic(batch["image"], y=batch.get("label"))["adv"].flatten()

    opts = {"batch_size": batch_size, **(drs_options or {})}
    drs = DRS(sample_fn, logit_fn, generator=gen, **opts)
    out = drs.sample(n)
    out["drs_acceptance"] = torch.tensor(drs.acceptance_rate)
    return out


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] NCHW float -> uint8 NHWC (the quantisation every FID protocol applies)."""
    x = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def write_samples(samples: dict[str, torch.Tensor], out: str | Path) -> Path:
    """``*.png``: one grid; ``*.npz``: ``images`` uint8 NHWC (+ ``labels``); otherwise a folder of PNG files."""
    from PIL import Image

    from ganlab.core.results import atomic_write_bytes
    from ganlab.core.train.trainer import images_to_png

    out = Path(out)
    images = samples["image"]
    if out.suffix == ".png":
        atomic_write_bytes(out, images_to_png(images))
    elif out.suffix == ".npz":
        arrays = {"images": _to_uint8(images) if images.ndim == 4 else images.cpu().numpy()}
        if "label" in samples:
            arrays["labels"] = samples["label"].cpu().numpy()
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(out, buf.getvalue())
    else:
        if images.ndim != 4:
            raise GanlabError("2-D samples cannot be written as PNG files; use an .npz or .png output")
        out.mkdir(parents=True, exist_ok=True)
        for i, arr in enumerate(_to_uint8(images)):
            Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr).save(out / f"{i:06d}.png")
    return out


# ---------------------------------------------------------------------------------------------------- commands
def _cmd_train(args: argparse.Namespace) -> int:
    from ganlab.core.train.trainer import Trainer

    if args.list:
        print("\n".join(list_configs()))
        return 0
    if not args.config:
        raise ConfigError("name a config: ganlab train --config FILE.yaml (ganlab train --list shows shipped ones)")
    overrides = list(args.overrides)
    if isinstance(args.resume, str) and "=" in args.resume and not Path(args.resume).exists():
        # `--resume KEY=VALUE ...`: argparse handed the first override to the optional CHECKPOINT value
        overrides.insert(0, args.resume)
        args.resume = True
    cfg = load_experiment(args.config, overrides, args.scale)
    resume: bool | str = args.resume if isinstance(args.resume, str) else bool(args.resume)
    trainer = Trainer(
        cfg,
        run_dir=args.run_dir,
        resume=resume,
        allow_config_change=args.allow_config_change,
        init_from=args.init_from,
    )
    summary = trainer.fit(stop_at=args.stop_at)
    if trainer.is_main:
        trainer.export_generator()
        print(json.dumps({"run_dir": str(trainer.run_dir.path), **summary}, indent=2))
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
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
    from ganlab.core.cli import add_overrides_argument

    p = subparsers.add_parser("train", help="train a GAN from a YAML config (any method, any backbone)")
    p.add_argument("--config", help="a YAML file, or the name of a shipped config (see --list)")
    p.add_argument("--list", action="store_true", help="list the shipped configs and exit")
    p.add_argument("--scale", choices=SCALES, default=None, help="apply the config's scales.<scale> section")
    p.add_argument("--run-dir", default=None, help="output folder (default: <out_dir>/<name>)")
    p.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="CHECKPOINT",
        help="continue from the run's latest checkpoint (or from CHECKPOINT)",
    )
    p.add_argument("--allow-config-change", action="store_true", help="resume even if the config changed")
    p.add_argument("--init-from", default=None, metavar="CHECKPOINT", help="start from another run's weights+step")
    p.add_argument("--stop-at", type=int, default=None, help="stop (with a checkpoint) after this step")
    add_overrides_argument(p)
    p.set_defaults(func=_cmd_train)

    s = subparsers.add_parser("sample", help="generate images from a trained run (grid, folder or npz)")
    s.add_argument("run", help="a run directory (its latest checkpoint) or a checkpoint file")
    s.add_argument("--out", required=True, help="*.png: one grid; *.npz: uint8 NHWC images + labels; else a folder")
    s.add_argument("-n", "--num", type=int, default=64, help="number of samples")
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
    d.add_argument("--out-dir", default="runs", help="the run goes to OUT_DIR/demo")
    d.add_argument("--steps", type=int, default=None, help="override train.steps")
    d.add_argument("--n-eval", type=int, default=2000, help="real and fake images for the metrics")
    add_overrides_argument(d)
    d.set_defaults(func=_cmd_demo)
