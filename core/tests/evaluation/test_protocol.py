"""The evaluation protocol as data: YAML loading, validation, words and record columns."""

from __future__ import annotations

import pytest
import yaml

from ganlab.core.config import load_config
from ganlab.core.errors import ConfigError
from ganlab.core.evaluation.protocol import EvalProtocol
from ganlab.core.evaluation.selection import best_index, better, patience_exhausted

PAPER = {
    "metrics": ["fid", "prdc", "is"],
    "network": {"name": "inception_torchvision", "transform_input": False},
    "resize": {"method": "torchvision", "size": 299},
    "n_fake": 50000,
    "reference": {"split": "train", "draw": "all"},
    "prdc": {"k": 5, "n_real": 10000, "n_fake": 10000},
    "checkpoint": {"choice": "best", "metric": "fid", "every": 2000},
    "scales": {"smoke": {"n_fake": "reference", "reference": {"n": 64, "draw": "random", "seed": 3}}, "paper": {}},
}


def _write(tmp_path, data):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_protocol_loads_from_yaml_with_scales(tmp_path):
    path = _write(tmp_path, PAPER)
    paper = load_config(EvalProtocol, path, scale="paper")
    assert paper.n_fake == 50000 and paper.network.transform_input is False
    assert paper.checkpoint.direction == "min" and paper.fake_count(123) == 50000
    smoke = load_config(EvalProtocol, path, scale="smoke")
    assert smoke.n_fake == "reference" and smoke.fake_count(64) == 64
    assert (smoke.reference.n, smoke.reference.draw, smoke.reference.seed) == (64, "random", 3)
    assert paper.extractor_options() == {"transform_input": False, "image_size": 299}


def test_unknown_and_bad_keys_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key 'reference.drwa'.*did you mean 'reference.draw'"):
        load_config(EvalProtocol, _write(tmp_path, {"reference": {"drwa": "all"}}))
    with pytest.raises(ConfigError, match="resize.method"):
        load_config(EvalProtocol, _write(tmp_path, {"resize": {"method": "bicubic"}}))
    with pytest.raises(ConfigError, match="n_fake"):
        load_config(EvalProtocol, _write(tmp_path, {"n_fake": "all"}))
    with pytest.raises(ConfigError, match="needs reference.n"):
        load_config(EvalProtocol, _write(tmp_path, {"reference": {"draw": "random"}}))
    with pytest.raises(ConfigError, match="checkpoint.every"):
        load_config(EvalProtocol, _write(tmp_path, {"checkpoint": {"choice": "best"}}))
    with pytest.raises(ConfigError, match="'fjd' is not one of"):
        load_config(EvalProtocol, _write(tmp_path, {"metrics": ["fjd"]}))


def test_describe_says_network_resize_counts_draw_and_checkpoint(tmp_path):
    text = load_config(EvalProtocol, _write(tmp_path, PAPER), scale="paper").describe()
    assert text.startswith(
        "Metrics FID, PRDC, IS on inception_torchvision features (layer pool, transform_input=False)"
    )
    assert "resized with torchvision's resize to 299" in text
    assert "50000 fakes against all real images of the train split." in text
    assert "P/R/D/C with k = 5: 10000 reals drawn at random from it (the run's seed) against the first 10000" in text
    assert "The generator with the best FID (lowest) over evaluations every 2000 steps is evaluated." in text
    assert "labels drawn uniformly; instance-conditioned ones, stored instances drawn uniformly." in text
    smoke = load_config(EvalProtocol, _write(tmp_path, PAPER), scale="smoke").describe()
    assert (
        "As many fakes as reference images against 64 real images of the train split (drawn at random, seed 3)" in smoke
    )
    assert "\n" not in text


def test_as_record_is_flat_and_follows_the_protocol():
    p = EvalProtocol()
    rec = p.as_record()
    assert all(not isinstance(v, (dict, list)) for v in rec.values())
    assert rec["eval_network"] == "inception" and rec["eval_checkpoint"] == "last" and rec["eval_select_metric"] is None
    p.checkpoint.choice, p.checkpoint.every, p.checkpoint.metric = "best", 10, "recall"
    assert p.as_record()["eval_select_mode"] == "max"


def test_feature_metrics_match_core_evaluate():
    from ganlab.core.evaluation.protocol import FEATURE_METRICS
    from ganlab.core.metrics.evaluate import FEATURE_METRICS as CORE

    assert FEATURE_METRICS == CORE


def test_check_extractor_resize():
    p = EvalProtocol()
    p.check_extractor("clean(bicubic-antialias float, 299)")
    with pytest.raises(ConfigError, match="declares resize 'clean'"):
        p.check_extractor("bilinear(align_corners=True, 299)")


def test_checkpoint_rule_arithmetic():
    fids = [40.0, 12.0, 30.0, 12.0, 55.0]
    assert best_index(fids, "fid") == 1  # ties keep the earlier evaluation
    assert best_index(fids, "fid", "max") == 4
    assert best_index([float("nan"), 3.0], "recall") == 1
    assert not better(float("nan"), None, "fid") and better(1.0, None, "fid")
    assert not patience_exhausted(fids[:4], "fid", None, 3)  # 2 evaluations since the best
    assert patience_exhausted(fids, "fid", None, 3)  # 3 since the best at index 1
    assert not patience_exhausted(fids, "fid", None, 0)


def test_network_options_and_prdc_split_in_words():
    p = EvalProtocol(metrics=["fid", "pr"])
    p.network.options = {"in_channels": 3}
    p.network.weights = "w.pt"
    assert p.extractor_options() == {"in_channels": 3, "weights_path": "w.pt"}
    p.prdc.k, p.prdc.seed, p.prdc.split = 3, 0, "train"
    p.reference.split = "all"
    text = p.describe()
    assert "all real images of the all split" in text
    assert "P/R/D/C with k = 3: 10000 reals drawn at random from the train split (seed 0)" in text
    assert p.as_record()["eval_prdc_split"] == "train"
    p.resize.method, p.resize.size = "tf_bilinear", None
    assert "quantised to uint8" in p.describe_network() and "no resize" in p.describe_network()


def test_protocol_extractor_applies_the_tf1_bilinear_resize():
    import torch

    from ganlab.core.evaluation.extractor import protocol_extractor

    p = EvalProtocol()
    p.network.name, p.network.options = "random:lenet", {"in_channels": 1}
    p.resize.method, p.resize.size = "tf_bilinear", 6
    ext = protocol_extractor(p)
    assert ext.resize == "tf_bilinear(6)"
    seen = []

    class Record(torch.nn.Module):
        def forward(self, x):
            seen.append(x)
            return x.flatten(1)

    ext.inner = Record()
    # grey levels 0, 10, 20 along a row; TF1 ResizeBilinear (align_corners=False, no half-pixel offset) to 6 gives
    # 0, 5, 10, 15, 20, 20 (source coordinate i * 3 / 6, the last neighbour clamped)
    row = torch.tensor([0.0, 10.0, 20.0]) / 127.5 - 1
    ext(row.view(1, 1, 1, 3).expand(1, 1, 3, 3).contiguous())
    got = (seen[0][0, 0, 0] + 1) * 127.5
    assert torch.allclose(got, torch.tensor([0.0, 5, 10, 15, 20, 20]), atol=1e-3)
    p.resize.method, p.resize.size = "none", None
    assert not hasattr(protocol_extractor(p), "inner")  # the network's own preprocessing only
