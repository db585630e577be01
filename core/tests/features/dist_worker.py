"""Run by test_distributed_extraction.py under ``torchrun --nproc_per_node 2`` (gloo, CPU)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from ganlab.core.features import extract_features, get_extractor, quantize_uint8


def main(out: Path) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    ext = get_extractor("random:lenet", seed=0)
    x = torch.rand(10, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    single = extract_features(ext, x, batch_size=3, device="cpu", progress=False)
    multi = extract_features(ext, x, batch_size=3, device="cpu", progress=False, distributed=True)
    calls: list[int] = []

    def gen(k: int) -> torch.Tensor:  # each process makes its own images: constant rank-dependent values
        calls.append(k)
        return torch.full((k, 1, 32, 32), -0.5 + rank)

    fake = extract_features(ext, gen, n=10, batch_size=3, device="cpu", progress=False, distributed=True)
    with torch.no_grad():
        per_rank = [ext(quantize_uint8(torch.full((1, 1, 32, 32), -0.5 + r))).numpy()[0] for r in range(2)]
    expected_rank = [0, 0, 0, 1, 1, 1, 0, 0, 0, 1]  # batches 0, 2 on rank 0; 1, 3 on rank 1
    report = {
        "rank": rank,
        "same_as_single": bool(np.allclose(single, multi, atol=1e-6)),
        "calls": calls,
        "fake_rows_ok": bool(all(np.allclose(fake[i], per_rank[r], atol=1e-5) for i, r in enumerate(expected_rank))),
    }
    (out / f"rank{rank}.json").write_text(json.dumps(report))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
