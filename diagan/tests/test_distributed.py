"""LDR records under several processes: each rank evaluates its shard, every rank ends with the full record."""

from __future__ import annotations

import socket
import subprocess
import sys

import numpy as np
import pytest

from ganlab.diagan.ldr import gather_shards

WORKER = """
import sys
from types import SimpleNamespace
import numpy as np, torch, torch.distributed as dist
from ganlab.diagan.ldr import gather_shards
rank, world, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
n = 11  # not divisible by the world size: the ranks hold 6 and 5 instances
values = np.arange(n, dtype=np.float32) * 1.5 - 3
pos = np.arange(n)[rank::world]
full = gather_shards(values[pos], pos, n, SimpleNamespace(num_processes=world, device=torch.device("cpu")))
np.save(f"{out}/rank{rank}.npy", full)
dist.destroy_process_group()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.distributed
def test_gather_shards_two_processes(tmp_path):
    port = str(_free_port())
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(r), "2", port, str(tmp_path)], stderr=subprocess.PIPE)
        for r in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    expect = np.arange(11, dtype=np.float32) * 1.5 - 3
    for r in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"rank{r}.npy"), expect)


def test_gather_shards_single_process():
    out = gather_shards(np.array([5.0, 7.0], dtype=np.float32), np.array([2, 0]), 3)
    np.testing.assert_array_equal(out[[0, 2]], [7.0, 5.0])
    assert np.isnan(out[1])
