"""Feature-extraction throughput (images/s) of every extractor on the current device.

For each extractor the script times ``extract_features`` on random 32x32 images in [-1, 1] (the size of the
embedded datasets and CIFAR), after one warm-up batch, with the extractor's own preprocessing (resize to 299 or
224 included). Extractors whose pretrained weights are not on disk are timed with the same architecture and random
weights (``random:<arch>``), which costs the same; the table says which one ran.

    python benchmarks/speed/bench_features.py [--n 512] [--batch-size 64] [--device cuda] [--out runs/bench]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

# (name, stand-in with random weights when the pretrained file is missing, channels of the input)
EXTRACTORS = [
    ("inception", "random:inception", 3),
    ("inception_torchvision", "random:inception", 3),
    ("resnet50", "random:resnet50", 3),
    ("swav", "random:resnet50", 3),
    ("vgg16", "random:vgg16", 3),
    ("random:lenet", None, 1),
    ("random:resnet20", None, 3),
]


def build(name: str, fallback: str | None):
    from ganlab.core.errors import WeightsNotFoundError
    from ganlab.core.features import get_extractor

    try:
        return get_extractor(name), name
    except WeightsNotFoundError:
        if fallback is None:
            raise
        return get_extractor(fallback), fallback


def bench_one(ext, channels: int, n: int, batch_size: int, device: torch.device) -> float:
    from ganlab.core.features import extract_features

    g = torch.Generator().manual_seed(0)
    images = torch.rand(n, channels, 32, 32, generator=g) * 2 - 1
    extract_features(ext, images[:batch_size], batch_size=batch_size, device=device, progress=False)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    extract_features(ext, images, batch_size=batch_size, device=device, progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=None, help="images per extractor (default: 256 CPU, 4096 GPU)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default=None)
    parser.add_argument("--only", nargs="*", default=None, help="names to run (default: all)")
    parser.add_argument("--out", default="runs/bench")
    args = parser.parse_args()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    n = args.n or (4096 if device.type == "cuda" else 256)
    rows = []
    for name, fallback, channels in EXTRACTORS:
        if args.only and name not in args.only:
            continue
        ext, ran = build(name, fallback)
        ips = bench_one(ext, channels, n, args.batch_size, device)
        rows.append({"extractor": name, "ran": ran, "dim": ext.dim, "resize": ext.resize, "img_per_s": ips})
        print(f"{name:24s} {ran:20s} dim {ext.dim:5d}  {ips:10.1f} img/s", flush=True)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu x{torch.get_num_threads()}"
    print()
    print(f"| extractor | ran as | dim | img/s on {device_name} (batch {args.batch_size}, n {n}, 32x32 input) |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['extractor']} | {r['ran']} | {r['dim']} | {r['img_per_s']:.1f} |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"device": device_name, "batch_size": args.batch_size, "n": n, "torch": torch.__version__, "rows": rows}
    (out / "bench_features.json").write_text(json.dumps(record, indent=2))
    print(f"\nwritten {out / 'bench_features.json'}")


if __name__ == "__main__":
    main()
