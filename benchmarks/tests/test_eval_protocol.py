"""The suites evaluate through core's EvalProtocol: every setting's ``protocol:`` section converts to one, its counts
are the ones the committed demo results were measured with, the cells evaluate by it, every record carries its
``as_record()`` columns, the summary states its ``describe()`` once per setting, and bad keys fail naming valid ones."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from ganlab.benchmarks.cells import Cell, run_cell
from ganlab.benchmarks.protocol import SettingContext, evaluate_samples
from ganlab.benchmarks.report import report
from ganlab.benchmarks.suite import list_suites, load_suite
from ganlab.core.errors import ConfigError
from ganlab.core.evaluation.protocol import EvalProtocol

TINY = Path(__file__).with_name("tiny.yaml")
RESULTS = Path(__file__).parents[1] / "results"


def test_every_shipped_setting_is_a_core_eval_protocol():
    for name in list_suites():
        suite = load_suite(name)
        for setting, spec in suite.settings.items():
            proto = spec.eval_protocol()
            assert isinstance(proto, EvalProtocol), (name, setting)
            p = spec.protocol
            assert proto.metrics == p.metrics and proto.n_fake == p.n_fake
            assert (proto.prdc.k, proto.prdc.n_real, proto.prdc.n_fake) == (p.k, p.n_real, None)
            assert (proto.reference.split, proto.reference.draw) == ("train", "all")
            assert proto.checkpoint.choice == "last"
            if p.extractor is None:
                assert set(proto.as_record()) == {k for k in proto.as_record() if k.startswith("eval_")}
            elif p.extractor.name is None:  # the in-domain classifier reads images at their own size
                assert proto.network.name == f"{p.extractor.arch}_indomain"
                assert (proto.resize.method, proto.resize.size) == ("none", None)
            else:  # the paper suite: clean-fid's Inception, its resize to 299
                assert (proto.network.name, proto.resize.method, proto.resize.size) == ("inception", "clean", 299)


@pytest.mark.parametrize("name, n_rows", [("demo", 48), ("cpu", 117)])
def test_the_committed_results_record_their_protocol(name, n_rows):
    """Every row of the committed demo and cpu results carries its (setting, method)'s core protocol, whose counts
    are the ones the row was measured with, and the summary states each setting's protocol in core's words."""
    from ganlab.benchmarks.protocol import describe_methods

    with (RESULTS / name / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    records = json.loads((RESULTS / name / "results.json").read_text())
    assert len(rows) == len(records) == n_rows
    suite = load_suite(name)
    for row, rec in zip(rows, records):
        proto = suite.eval_protocol(row["setting"], row["method"])
        assert int(row["protocol.n_fake"]) == proto.n_fake
        if proto.metrics:
            assert int(row["protocol.prdc_n_real"]) == proto.prdc.n_real == 2000
            assert int(row["protocol.k"]) == proto.prdc.k == 5
            assert row["protocol.fid_reference"] == "all 5000 training images" and proto.reference.draw == "all"
            assert row["protocol.extractor"].startswith(f"in-domain {proto.network.name.split('_')[0]} trained here")
            gold = "gold_rejection" in row["method"]  # its bank: n / classes per class, class after class
            assert row["eval_label_draw"] == ("class_sequential" if gold else "uniform")
        for key, value in proto.as_record().items():
            assert row[key] == ("" if value is None else str(value)), key
            assert rec[key] == value, key
    summary = " ".join((RESULTS / name / "summary.md").read_text().split())
    for setting, spec in suite.settings.items():
        methods = describe_methods(suite, setting)
        assert "Protocol: " + " ".join([spec.eval_protocol().describe(), *([methods] if methods else [])]) in summary


def test_a_method_s_sampler_decides_its_label_draw_in_one_place():
    """GOLD rejection's samples come class after class, n / classes of each: its records say class_sequential, every
    other method's the setting's uniform draw; the summary names the methods whose draw differs."""
    from ganlab.benchmarks.compose import resolve
    from ganlab.benchmarks.integrations import gold_rejection
    from ganlab.benchmarks.protocol import describe_methods

    suite = load_suite(TINY)
    setting = suite.settings["digits"].eval_protocol()
    assert setting.conditioning.labels == "uniform"
    for method in suite.methods:
        got = suite.eval_protocol("digits", method)
        gold = resolve(suite.methods[method].parts).sampler()
        expect = "class_sequential" if gold is not None and gold.name == "gold_rejection" else "uniform"
        assert got.conditioning.labels == expect, method
        assert got.as_record() == {**setting.as_record(), "eval_label_draw": expect}, method
    assert suite.eval_protocol("digits", "gold_rejection").describe().count("labels in equal blocks per class") == 1
    words = describe_methods(suite, "digits")
    assert words.startswith("For gold_rejection, diagan+gold_rejection: Class-conditional generators get labels in")
    assert describe_methods(suite, "gauss") == ""

    # what the draw says is what the sampler does: labels in equal blocks per class, in class order
    import torch

    from ganlab.core.nn import build_backbone

    torch.manual_seed(0)
    G, D = build_backbone("mlp_image", resolution=8, channels=1, z_dim=8, width=16, num_classes=4, acgan=True)
    labels = gold_rejection(G, D, 40, p=0.5, seed=0)["label"]
    assert torch.equal(labels, torch.arange(4).repeat_interleave(10))


def test_bad_protocol_keys_fail_naming_the_valid_ones():
    with pytest.raises(ConfigError, match=r"'settings\.digits\.protocol\.nfake'; valid keys here: .*n_fake"):
        load_suite(TINY, ["settings.digits.protocol.nfake=300"])
    with pytest.raises(ConfigError, match=r"protocol\.extractor\.arc'; valid keys here: arch, .*resize"):
        load_suite(TINY, ["settings.digits.protocol.extractor.arc=lenet"])
    with pytest.raises(ConfigError, match=r"protocol\.extractor\.resize\.methd'; valid keys here: method, size"):
        load_suite(TINY, ["settings.digits.protocol.extractor.resize={methd: clean}"])
    with pytest.raises(ConfigError, match=r"settings\.digits\.protocol\.prdc: prdc\.n_real must exceed prdc\.k"):
        load_suite(TINY, ["settings.digits.protocol.k=500"])
    with pytest.raises(ConfigError, match=r"settings\.digits\.protocol\.extractor\.resize: say how 'resnet50'"):
        load_suite(TINY, ["settings.digits.protocol.extractor.name=resnet50"])


def test_a_network_that_resizes_otherwise_than_declared_is_refused(tmp_path):
    named = ["settings.digits.protocol.extractor.name=random:lenet"]
    wrong = load_suite(TINY, [*named, "settings.digits.protocol.extractor.resize={method: clean, size: 299}"])
    with pytest.raises(ConfigError, match="declares resize 'clean' but 'random:lenet' resizes with 'none'"):
        SettingContext(wrong, "digits", tmp_path).extractor  # noqa: B018
    right = load_suite(TINY, [*named, "settings.digits.protocol.extractor.resize={method: none, size: null}"])
    assert SettingContext(right, "digits", tmp_path).extractor.resize == "none"


def test_evaluation_follows_the_protocol_counts(tmp_path):
    from ganlab.core.metrics.fid import fid_from_features
    from ganlab.core.metrics.prdc import prdc

    suite = load_suite(TINY, ["settings.digits.protocol.n_real=150", "settings.digits.protocol.k=3"])
    ctx = SettingContext(suite, "digits", tmp_path)
    ctx.prepare()
    assert ctx.n_fake == ctx.eval_protocol.n_fake == 100
    images = ctx.dataset.get_batch(np.arange(500, 600))["image"]
    got = evaluate_samples(ctx, {"image": images}, seed=7)
    fake, real = ctx.embed(images), ctx.features
    # FID against every training image; P/R/D/C with k = 3 against 150 of them drawn with the cell's seed
    assert got["fid"] == pytest.approx(fid_from_features(real, fake), rel=1e-12)
    pick = np.sort(np.random.default_rng(7).choice(len(real), 150, replace=False))
    for key, value in prdc(real[pick], fake, k=3).items():
        assert got[key] == pytest.approx(float(value), rel=1e-12), key
    other = evaluate_samples(ctx, {"image": images}, seed=8)
    assert other["fid"] == got["fid"]  # only the P/R/D/C reals depend on the seed
    assert any(other[k] != got[k] for k in ("precision", "recall", "density", "coverage"))


def test_records_carry_the_protocol_columns_and_the_summary_states_it_once_per_setting(tmp_path):
    suite = load_suite(TINY, methods=["vanilla"], seeds=1)
    ctx = SettingContext(suite, "digits", tmp_path)
    ctx.prepare()
    ran = run_cell(Cell(suite, "digits", "vanilla", 0, tmp_path, ctx=ctx))
    assert ran["status"] == "done", ran.get("message")
    digits, gauss = (suite.settings[s].eval_protocol() for s in ("digits", "gauss"))
    assert {k: ran[k] for k in digits.as_record()} == digits.as_record()
    assert ran["eval_network"] == "lenet_indomain" and ran["eval_n_fake"] == 100 and ran["eval_prdc_n_real"] == 200

    summary = report(tmp_path, suite, plots=False).read_text()
    records = json.loads((tmp_path / "results.json").read_text())
    with (tmp_path / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["setting"] for r in rows] == ["digits", "gauss"]  # the gauss cell never ran: pending, with its protocol
    for rec, row, proto in zip(records, rows, (digits, gauss)):
        for key, value in proto.as_record().items():
            assert rec[key] == value and row[key] == ("" if value is None else str(value)), key
    assert rows[1]["eval_network"] == ""  # no evaluation network reads the 2-D points
    for proto in (digits, gauss):
        assert summary.count(proto.describe()) == 1
    assert summary.count("Metrics FID, PRDC on lenet_indomain features") == 1
    assert "100 fakes against all real images of the train split" in summary
