"""The multi-GAN ensemble row: two GANs trained in sequence, the second on Algorithm 1's weights, samples drawn from
a generator chosen per batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganlab.benchmarks.cells import Cell, run_cell
from ganlab.benchmarks.integrations import multigan_sample
from ganlab.benchmarks.suite import load_suite

TINY = Path(__file__).with_name("tiny.yaml")


def test_the_boosted_pair_trains_in_sequence_and_samples_from_both(tmp_path):
    suite = load_suite(TINY, methods=["multigan2"], seeds=1)
    cell = Cell(suite, "digits", "multigan2", 0, tmp_path)
    cell.ctx.prepare()
    rec = run_cell(cell)
    assert rec["status"] == "done", rec.get("message")
    root = Path(rec["train_dir"])
    assert (root / "gan_0" / "G_ema.pt").is_file() and (root / "gan_1" / "G_ema.pt").is_file()
    probs = np.load(root / "weights_1.npy")
    assert probs.shape == (len(cell.ctx.dataset),) and np.isclose(probs.sum(), 1.0) and (probs >= 0).all()
    assert probs.std() > 0  # re-weighted, not uniform
    assert np.isfinite(rec["metrics"]["fid"])
    assert rec["scores"] == ["multigan/weight"]  # Algorithm 1's weights join the side-by-side instance scores
    assert np.array_equal(np.load(root / "instance_scores.npz")["multigan/weight"], probs)

    # sampling: every batch comes from one generator, both generators are used, labels cover the classes
    trained = cell.train()
    ens = trained.models["ensemble"]
    picks = []
    original = ens.pick

    def spy():
        G = original()
        picks.append(ens.generators.index(G))
        return G

    ens.pick = spy
    out = multigan_sample(trained, 1000, seed=3, batch_size=50)
    assert out["image"].shape[0] == 1000 and len(picks) == 20
    assert set(picks) == {0, 1}
    assert set(torch.unique(out["label"]).tolist()) == set(range(10))
