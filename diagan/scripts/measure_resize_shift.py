"""How much the resize before the feature extractor moves FID at 32 px (issue 11, defect 8; numbers in the README).

Bundled data only: a DCGAN trained on the 5,000 bundled MNIST digits at 32 px gives the fakes; the in-domain
extractor is a ResNet-20 trained on the same digits at 64 px (its input size). Real and fake 32-px images reach it
through (a) clean-fid's resize (antialiased bicubic, what the ``inception`` extractor does itself) or (b) the official
TF1 bilinear resize (``tf_bilinear``), and FID is computed for each. Usage:

    python diagan/scripts/measure_resize_shift.py OUT_DIR [--steps 1500] [--epochs 2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args()
    from ganlab.core.data import get_dataset
    from ganlab.core.features.classifier import train_classifier
    from ganlab.core.features.extractors import clean_resize, quantize_uint8
    from ganlab.core.metrics.fid import fid_from_features
    from ganlab.core.train import Trainer
    from ganlab.core.train.config import ExperimentConfig
    from ganlab.diagan.method import generate
    from ganlab.diagan.resize import protocol_resize

    t0 = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    cfg = ExperimentConfig(name="resize_gan", out_dir=str(args.out))
    cfg.data.name, cfg.data.resolution = "mnist5k", 32
    cfg.model.backbone = "dcgan"
    cfg.model.options = {"resolution": 32, "channels": 1, "z_dim": 64, "ngf": 32, "ndf": 32, "sn": False}
    cfg.optim.g_lr = cfg.optim.d_lr = 2e-4
    cfg.optim.betas = (0.5, 0.999)
    cfg.train.steps, cfg.train.batch_size = args.steps, 64
    cfg.train.log_every, cfg.train.sample_every, cfg.train.checkpoint_every, cfg.train.progress = 500, 0, 0, False
    trainer = Trainer(cfg)
    trainer.fit()
    fakes = quantize_uint8(generate(trainer.G_ema, 5000, device="cpu", seed=1).cpu())
    real32 = get_dataset("mnist5k", resolution=32).get_batch(np.arange(5000))
    big = get_dataset("mnist5k", resolution=args.size).get_batch(np.arange(5000))
    model, info = train_classifier(
        (big["image"], torch.as_tensor(big["label"])),
        num_classes=10,
        in_channels=1,
        protocol="gold",
        arch="resnet20",
        epochs=args.epochs,
        samples_per_epoch=None,
        seed=0,
        device="cpu",
    )
    model.eval()

    def feats(x: torch.Tensor, how: str) -> np.ndarray:
        out = []
        with torch.no_grad():
            for i in range(0, len(x), 250):
                b = x[i : i + 250]
                if how == "tf_bilinear":
                    b = protocol_resize(b, "tf_bilinear", args.size)
                else:  # clean-fid: antialiased bicubic on [0, 255] floats
                    b = clean_resize((quantize_uint8(b) + 1) * 127.5, args.size) / 127.5 - 1
                out.append(model.features(b).numpy())
        return np.concatenate(out).astype(np.float64)

    res = {"classifier_train_accuracy": info.get("accuracy"), "gan_steps": args.steps, "extractor_size": args.size}
    for how in ("clean", "tf_bilinear"):
        res[f"fid_{how}"] = float(fid_from_features(feats(real32["image"], how), feats(fakes, how)))
    res["fid_real_clean_vs_real_tf"] = float(
        fid_from_features(feats(real32["image"], "clean"), feats(real32["image"], "tf_bilinear"))
    )
    res["wall_s"] = time.time() - t0
    (args.out / "resize_shift.json").write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
