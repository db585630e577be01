"""How much the resize before the feature extractor moves FID at 32 px (issue 11, defect 8; numbers in the README).

Bundled data only, sized for a loaded CPU (no convolutional GAN): the fakes come from a small MLP GAN trained on the
5,000 bundled MNIST digits at 32 px. The in-domain extractor takes Inception's input size: 299-px images are
area-averaged back to 32 px and embedded by a LeNet trained here on the digits (its 84-d penultimate features).
Real and fake 32-px images reach 299 px through (a) clean-fid's resize (antialiased bicubic on [0, 255], what the
``inception`` extractor does itself) or (b) the official TF1 bilinear resize (``tf_bilinear``); FID for each, and the
FID between the two versions of the same real images. Usage:

    python diagan/scripts/measure_resize_shift.py OUT_DIR [--steps 3000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.functional import binary_cross_entropy_with_logits as bce


def mlp_gan(real: torch.Tensor, steps: int, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    G = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 1024), nn.Tanh(), nn.Unflatten(1, (1, 32, 32)))
    D = nn.Sequential(nn.Flatten(), nn.Linear(1024, 512), nn.LeakyReLU(0.2), nn.Linear(512, 1))
    og, od = (torch.optim.Adam(m.parameters(), 2e-4, betas=(0.5, 0.999)) for m in (G, D))
    ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)
    for _ in range(steps):
        x, fake = real[torch.randint(0, len(real), (64,))], G(torch.randn(64, 64))
        od.zero_grad()
        (bce(D(x), ones) + bce(D(fake.detach()), zeros)).backward()
        od.step()
        og.zero_grad()
        bce(D(fake), ones).backward()
        og.step()
    return G.eval()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--steps", type=int, default=3000)
    args = ap.parse_args()
    from ganlab.core.data import get_dataset
    from ganlab.core.features.classifier import train_classifier
    from ganlab.core.features.extractors import clean_resize, quantize_uint8
    from ganlab.core.metrics.fid import fid_from_features
    from ganlab.diagan.resize import protocol_resize

    t0 = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    batch = get_dataset("mnist5k", resolution=32).get_batch(np.arange(5000))
    real, labels = batch["image"], torch.as_tensor(batch["label"])
    G = mlp_gan(real, args.steps)
    with torch.no_grad():
        fakes = quantize_uint8(G(torch.randn(5000, 64, generator=torch.Generator().manual_seed(1))))
    order = torch.randperm(5000, generator=torch.Generator().manual_seed(0))
    test, train = order[:500], order[500:]
    lenet, info = train_classifier(
        (real[train], labels[train]),
        num_classes=10,
        in_channels=1,
        test=(real[test], labels[test]),
        protocol="gold",
        arch="lenet",
        epochs=5,
        samples_per_epoch=None,
        seed=0,
        device="cpu",
    )
    lenet.eval()

    def feats(x: torch.Tensor, how: str) -> np.ndarray:
        out = []
        with torch.no_grad():
            for i in range(0, len(x), 200):
                b = x[i : i + 200]
                if how == "tf_bilinear":
                    up = protocol_resize(b, "tf_bilinear", 299)
                else:  # clean-fid: antialiased bicubic on [0, 255] floats, after the uint8 quantisation
                    up = clean_resize((quantize_uint8(b) + 1) * 127.5, 299) / 127.5 - 1
                out.append(lenet.features(torch.nn.functional.interpolate(up, size=(32, 32), mode="area")).numpy())
        return np.concatenate(out).astype(np.float64)

    res = {"lenet_test_accuracy": info.get("accuracy"), "mlp_gan_steps": args.steps, "n_real": 5000, "n_fake": 5000}
    fr = {how: feats(real, how) for how in ("clean", "tf_bilinear")}
    for how in ("clean", "tf_bilinear"):
        res[f"fid_{how}"] = float(fid_from_features(fr[how], feats(fakes, how)))
    res["fid_real_clean_vs_real_tf_bilinear"] = float(fid_from_features(fr["clean"], fr["tf_bilinear"]))
    res["wall_s"] = time.time() - t0
    (args.out / "resize_shift.json").write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
