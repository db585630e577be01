"""Classifier training throughput on on-the-fly GAN samples (generate + flip/crop + filter) vs a fixed tensor set.

Both sides train the same ResNet-20 with SGD at the same batch size for the same number of steps; the fixed side
draws batches from a tensor set of the same size (random flip + crop on the batch, as the real baseline), the
on-the-fly side runs :class:`ganlab.multigan_boosting.synthetic.SyntheticSource` with a BigGAN G at the multi-GAN
CIFAR config (``--ch``) and the classifier filter. The filter runs a real ResNet-20 forward (its cost), but its
decision accepts a chosen fraction of images (``--accept``, default 0.85: the report's filter net classifies 94% of raw
BigGAN samples correctly, so most pass) since untrained networks would accept ~1/K and measure the wrong thing.

    python benchmarks/speed/bench_multigan_classifier.py [--steps 10] [--batch 125] [--ch 16] [--arch resnet20]

Writes runs/bench/bench_multigan_classifier.json. Goal on CPU: on-the-fly >= 0.5x the fixed set's img/s.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.nn import build_backbone
from ganlab.core.nn.classifiers import build_classifier
from ganlab.multigan_boosting.classifier import RealSource
from ganlab.multigan_boosting.synthetic import SyntheticSource


class CostFaithfulFilter(nn.Module):
    """A ResNet-20 forward for the cost; logits that accept about ``accept`` of the images for their label."""

    def __init__(self, arch: str, num_classes: int, accept: float, source_labels: list) -> None:
        super().__init__()
        self.net = build_classifier(arch, num_classes=num_classes, in_channels=3).eval()
        self.num_classes, self.accept, self.labels = num_classes, accept, source_labels
        self.g = torch.Generator().manual_seed(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        y = self.labels[-1]
        hit = torch.rand(len(x), generator=self.g) < self.accept
        fake = torch.where(hit, y, (y + 1) % self.num_classes)
        return out * 0 + 10.0 * F.one_hot(fake, self.num_classes).float()


def train_steps(model: nn.Module, source, steps: int, batch: int) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    model.train()
    t0 = 0.0
    for i in range(steps + 2):  # two warm-up steps
        if i == 2:
            t0 = time.perf_counter()
        x, y = source(batch)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=125)
    ap.add_argument("--ch", type=int, default=16, help="BigGAN G width (the paper's is 64)")
    ap.add_argument("--arch", default="resnet20", help="classifier and filter (the paper's: resnet20_w64)")
    ap.add_argument("--accept", type=float, default=0.85)
    ap.add_argument("--out", default="runs/bench/bench_multigan_classifier.json")
    a = ap.parse_args()
    torch.manual_seed(0)
    G, _ = build_backbone("biggan32_cifar_multigan", ch=a.ch)
    G.eval()
    n = (a.steps + 2) * a.batch
    fixed = RealSource(torch.rand(n, 3, 32, 32) * 2 - 1, torch.randint(0, 10, (n,)), augment=True)
    rows = {"fixed tensor set (flip + crop)": train_steps(build_classifier(a.arch, 10, 3), fixed, a.steps, a.batch)}
    for label, filt in (("on-the-fly + T", False), ("on-the-fly + T + F", True)):
        labels: list = []
        src = SyntheticSource(G, 10, transform=True, gen_batch_size=a.batch, seed=0)
        if filt:
            src.filter = CostFaithfulFilter(a.arch, 10, a.accept, labels)
        gen = src.generate

        def generate(m, gen=gen, labels=labels):
            x, y = gen(m)
            labels.append(y)
            return x, y

        src.generate = generate  # type: ignore[method-assign]  # lets the stub filter see the batch's labels
        rows[label] = train_steps(build_classifier(a.arch, 10, 3), src, a.steps, a.batch)
        if filt:
            rows["acceptance rate"] = src.stats.acceptance_rate
    base = rows["fixed tensor set (flip + crop)"]
    result = {
        "setup": vars(a) | {"threads": torch.get_num_threads(), "device": "cpu"},
        "img_per_s": {k: v for k, v in rows.items() if k != "acceptance rate"},
        "ratio_vs_fixed": {k: v / base for k, v in rows.items() if k.startswith("on-the-fly")},
        "acceptance_rate": rows.get("acceptance rate"),
    }
    for k, v in result["img_per_s"].items():
        print(f"{k:34s} {v:9.1f} img/s" + (f"  ({v / base:.2f}x)" if k != "fixed tensor set (flip + crop)" else ""))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
