"""The harness with generators it does not train (Hooks.generators), the aggregate's refusal of a column clash, a
protocol without feature metrics, and the class-sequential label draw."""

from __future__ import annotations

import numpy as np
import pytest
from train_testutils import tiny_dataset

from ganlab.core.config import from_dict
from ganlab.core.errors import ConfigError
from ganlab.core.evaluation.draws import draw_labels
from ganlab.core.evaluation.protocol import EvalProtocol
from ganlab.core.repro_harness import Harness, Hooks, ReproSpec, aggregate
from ganlab.core.results import RunDir


class SharedHooks(Hooks):
    """Arm ``real`` evaluates no generator; the others get a "generator" (here a number) shared between arms."""

    def __init__(self):
        self.calls = []

    def dataset(self, h):
        return tiny_dataset(n=16, shape=(1, 8, 8))

    def generators(self, h, arm, seed):
        self.calls.append((arm.name, seed))
        return [(None, None, None)] if arm.name == "real" else [("last", 10 * seed + len(arm.name), None)]

    def evaluate(self, h, arm, seed, G, trainer):
        assert trainer is None
        return [{"score": -1.0 if G is None else float(G)}]

    def finish(self, h, per_seed, records):
        return per_seed + records


def test_generators_hook_skips_training_and_resumes(tmp_path, monkeypatch):
    spec = from_dict(ReproSpec, {"protocol": {"metrics": []}, "arms": [{"name": "real"}, {"name": "ab"}],
                                 "seeds": [0, 1]})  # fmt: skip
    monkeypatch.setattr(Harness, "train", lambda *a: pytest.fail("an arm with generators must not be trained"))
    hooks = SharedHooks()
    out = Harness(spec, RunDir(tmp_path / "run"), hooks).run()
    per_seed, means = out[:4], out[4:]
    assert [(r["arm"], r["seed"], r["checkpoint"], r["score"]) for r in per_seed] == [
        ("real", 0, None, -1.0), ("ab", 0, "last", 2.0), ("real", 1, None, -1.0), ("ab", 1, "last", 12.0),
    ]  # fmt: skip
    assert means[1]["score"] == 7.0 and means[1]["score_std"] == pytest.approx(np.std([2, 12], ddof=1))
    assert set(per_seed[0]) >= {"eval_checkpoint", "eval_select_metric"} and "eval_network" not in per_seed[0]
    again = SharedHooks()
    assert Harness(spec, RunDir(tmp_path / "run"), again).run() == out and again.calls == []  # read back


def test_aggregate_refuses_a_std_column_beside_its_metric_but_the_is():
    rows = [{"arm": "x", "seed": s, "fid": 1.0 + s, "fid_std": 0.5} for s in range(2)]
    with pytest.raises(ValueError, match="fid_std"):
        aggregate(rows, ("arm",), ["fid"])
    rows = [{"arm": "x", "seed": s, "is": 4.0 + 2 * s, "is_std": 0.1} for s in range(2)]
    (agg,) = aggregate(rows, ("arm",), ["is"])  # the IS's std over splits: replaced by the spread over seeds
    assert agg["is"] == 5.0 and agg["is_std"] == pytest.approx(np.sqrt(2.0))


def test_a_protocol_without_metrics_states_only_its_checkpoint_rule():
    p = from_dict(EvalProtocol, {"metrics": [], "checkpoint": {"choice": "best", "metric": "is", "every": 100}})
    assert p.as_record() == {"eval_checkpoint": "best", "eval_select_metric": "is", "eval_select_every": 100,
                             "eval_select_mode": "max", "eval_patience": 0}  # fmt: skip
    assert p.describe().startswith("No feature metric") and "every 100 steps" in p.describe()
    assert "inception" not in p.describe()


def test_class_sequential_labels():
    assert draw_labels(6, "class_sequential", seed=3, num_classes=3).tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ConfigError, match="evenly"):
        draw_labels(7, "class_sequential", num_classes=3)
    p = from_dict(EvalProtocol, {"conditioning": {"labels": "class_sequential"}})
    assert "equal blocks per class" in p.describe() and p.as_record()["eval_label_draw"] == "class_sequential"
