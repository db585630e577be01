"""Active learning: rounds, top-k GOLD queries under the round's selected D, resume between rounds, bad sizes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from gold_testutils import toy_config

from ganlab.core.errors import ConfigError
from ganlab.core.nn import build_backbone
from ganlab.gold.active import ActiveConfig, run_active_learning
from ganlab.gold.query import query_scores
from ganlab.gold.split import load_split


def _active(**kw):
    base = {"sizes": (4, 1, 6), "epochs": 1, "eval_every": 1, "val_size": 20, "query": "gold_balanced"}
    return ActiveConfig(**{**base, **kw})


def _cfg(tmp_path):
    return toy_config(tmp_path, reweight=False, lambda_c=0.01, capacity={"epochs": 1, "samples_per_epoch": 128})


def test_rounds_queries_and_resume(tmp_path):
    out = tmp_path / "al"
    recs = run_active_learning(_cfg(tmp_path), _active(snapshot=50), out)
    assert [r["n_labelled"] for r in recs] == [4, 5, 6] and recs[-1]["queried"] is None
    from ganlab.core.data import get_dataset

    ds = get_dataset("clusters6", n_train=300, n_test=100)
    for r in recs[:-1]:
        rdir = out / f"round_{r['round']:02d}"
        split = load_split(rdir / "split_in.npz")
        _, D = build_backbone("toy_mlp_gold", width=16)
        D.load_state_dict(torch.load(rdir / "models.pt", weights_only=False)["D"])
        scores = query_scores(D, ds.get_batch(split.pool)["image"], balanced=True)
        assert r["queried"] == [int(split.pool[np.argmax(scores)])]  # the top eq.-9 score of the pool
        nxt = load_split(out / f"round_{r['round'] + 1:02d}" / "split_in.npz")
        assert set(nxt.labelled.tolist()) == set(split.labelled.tolist()) | set(r["queried"])
        assert (rdir / "snapshot.npz").is_file()
    lines = [json.loads(s) for s in open(out / "metrics.jsonl")]
    assert [x["round"] for x in lines if x.get("event") == "round"] == [0, 1, 2]
    # resume between rounds: forget the last round, run again -> only it is trained again, the others are kept
    state = json.loads((out / "active.json").read_text())
    state["rounds"] = state["rounds"][:2]
    (out / "active.json").write_text(json.dumps(state))
    shutil.rmtree(out / "round_02")
    again = run_active_learning(_cfg(tmp_path), _active(snapshot=50), out)
    assert again[:2] == recs[:2] and again[2]["n_labelled"] == 6


def test_random_queries_come_from_the_pool(tmp_path):
    out = tmp_path / "rnd"
    recs = run_active_learning(_cfg(tmp_path), _active(query="random", sizes=(4, 2, 6)), out)
    split = load_split(out / "round_00" / "split_in.npz")
    assert set(recs[0]["queried"]) <= set(split.pool.tolist()) and len(recs[0]["queried"]) == 2


@pytest.mark.parametrize(
    ("sizes", "match"),
    [((4, 1, 4), "increasing"), ((4, 0, 8), "increasing"), ((4, 3, 8), "multiple"), ((4, 1, 290), "exceeds")],
)
def test_bad_sizes(tmp_path, sizes, match):
    with pytest.raises(ConfigError, match=match):
        run_active_learning(_cfg(tmp_path), _active(sizes=sizes), tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
