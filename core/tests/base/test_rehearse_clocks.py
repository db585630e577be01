"""Rehearsal derivation beyond training steps: clocks counted in epochs (GOLD, the multigan classifiers), a nested
training config (multigan's GAN) turned into overrides, seed and row lists, and stand-in sizes derived from what a
config needs. Expected values are computed by hand in the comments."""

from __future__ import annotations

from ganlab.core.rehearse import derive_rehearsal
from ganlab.core.rehearse_assets import needed
from ganlab.core.rehearse_keys import package_key

GOLD = {
    "experiment": {
        "kind": "reweight",
        "seeds": [1, 2, 3, 4, 5],
        "label_fractions": [0.01, 0.05, 0.1, 0.2, 0.5, 1.0],
        "active": {"epochs": 100, "eval_every": 10},
    },
    "run": {
        "data": {"name": "mnist"},
        "train": {"steps": 1, "batch_size": 128, "log_every": 20, "checkpoint_every": 2000},
        "method": {"name": "gold", "options": {"epochs": 20, "start_epoch": 10, "eval_every": 5, "per_epoch": 10000}},
    },
    "scales": {"paper": {}},
}


def test_gold_epochs_are_a_clock_of_their_own():
    got = derive_rehearsal(GOLD, "gold", steps=24, n_eval=32, batch=4)
    o = got["run"]["method"]["options"]
    # epochs 20 -> 4 (the clock's length); 5 and 10 scale by 4/20 to 1 and 2: order kept, start stays mid-run
    assert (o["epochs"], o["start_epoch"], o["eval_every"]) == (4, 2, 1)
    # GOLD keeps the paper's batch (128); an epoch is two batches of it
    assert got["run"]["train"]["batch_size"] == 128 and o["per_epoch"] == 256
    # the active-learning round: 100 epochs -> 4, model selection every 10 -> round(0.4) = 0, kept >= 1
    assert got["experiment"]["active"] == {"epochs": 4, "eval_every": 1}
    # the fitting-capacity protocol (40 epochs of 10,000, lr step at 20) is written out and shrunk: 2 epochs, the
    # step at round(20 * 2 / 40) = 1, n_eval samples per epoch
    assert got["experiment"]["capacity"] == {"epochs": 2, "samples_per_epoch": 32, "step_every": 1}
    # the rejection bank and its statistics (50,000 by default, not in the config) are written as n_eval; the bank is
    # class-balanced (n / classes per class), so it is rounded up to a multiple of the 10 MNIST classes
    assert (got["experiment"]["n_bank"], got["experiment"]["n_stats"], got["experiment"]["fid_n"]) == (40, 32, 32)
    for classes, n_eval, bank in ((10, 40, 40), (10, 41, 50), (7, 32, 35), (1000, 32, 1000)):
        cfg = {**GOLD, "run": {**GOLD["run"], "model": {"options": {"num_classes": classes}}}}
        assert derive_rehearsal(cfg, "gold", n_eval=n_eval)["experiment"]["n_bank"] == bank
    # one seed; the label-fraction rows keep the first and the last
    assert got["experiment"]["seeds"] == [1] and got["experiment"]["label_fractions"] == [0.01, 1.0]


def test_gold_step_cadences_fire_mid_run():
    got = derive_rehearsal(GOLD, "gold", steps=24, n_eval=32, batch=4, max_evals=2)
    t = got["run"]["train"]
    # paper: 20 epochs x ceil(10,000 / 128) = 79 steps = 1,580 steps; rehearsal: 4 epochs x 2 batches = 8 steps.
    # log_every 20 -> round(20 * 8 / 1580) = 0, kept >= 1; checkpoint_every 2000 -> round(10.1) = 10, past the
    # 8-step run, capped at ceil(8 / 2) = 4 so that it fires at steps 4 and 8
    assert (t["log_every"], t["checkpoint_every"]) == (1, 4)
    # train.steps stays the placeholder that the run resolves from the epochs
    assert t["steps"] == 1


def test_gold_epoch_size_left_at_its_default_is_written_out():
    raw = {"run": {"train": {"steps": 1, "batch_size": 64}, "method": {"options": {"epochs": 20}}}}
    got = derive_rehearsal(raw, "gold", batch=4)
    # per_epoch (default 10,000 items) is not in the config: the rehearsal writes two batches of 64
    o = got["run"]["method"]["options"]
    assert (o["epochs"], o["per_epoch"]) == (4, 128)


def test_classifier_milestones_stay_ordered_inside_their_epochs():
    raw = {"classifier": {"epochs": 180, "iters_per_epoch": 400, "milestones": [100, 150]}, "data": {"val_size": 5000}}
    got = derive_rehearsal(raw, "multigan-boosting", n_eval=32)
    # 180 -> 3: 100 -> round(1.67) = 2, 150 -> round(2.5) = 2 -> 3 (after 2), 180 -> round(3) = 3 -> 4 (after 3)
    assert got["classifier"] == {"epochs": 4, "iters_per_epoch": 2, "milestones": [2, 3]}
    assert got["data"]["val_size"] == 32  # multigan's held-out validation is an evaluation draw


def test_nested_gan_config_is_rehearsed_through_overrides():
    raw = {
        "gan": {"config": "biggan32_cifar_multigan", "overrides": ["optim.n_dis=5"]},
        "experiment": {"eval_every": 5000},
    }
    got = derive_rehearsal(raw, "multigan", steps=24, n_eval=32, batch=4, max_evals=2)
    # the shipped config: steps 100000, log 100, ema.start / sample / checkpoint 2000, batch 64; with the
    # protocol's eval_every 5000 (a periodic evaluation: raised to ceil(24 / 2) = 12). Map by 24 / 100000:
    # 100 -> 0 -> 1; 2000 -> 0 -> 2 (after 1); 5000 -> max(0, 12) = 12; 100000 -> 24
    assert got["experiment"]["eval_every"] == 12
    assert got["gan"]["overrides"][0] == "optim.n_dis=5"
    assert sorted(got["gan"]["overrides"][1:]) == sorted(
        [
            "ema.start=2",
            "train.steps=24",
            "train.batch_size=4",
            "train.log_every=1",
            "train.sample_every=2",
            "train.checkpoint_every=2",
            "eval.n_fake=32",  # the periodic evaluation's default 10,000 samples, written out and shrunk
        ]
    )


def test_stand_in_size_is_what_the_config_needs():
    # held out: val 5000 + test 100; training: two batches of 64 -> 128: 5228
    assert needed({"data": {"val_size": 5000, "test_size": 100}}, 10, 64) == 5000 + 100 + 128
    # Table 2's 1 % labelled, class-balanced over 10 classes: 10 / 0.01 = 1000 items (+ the 100 held out)
    assert needed({"experiment": {"label_fractions": [0.01, 1.0]}, "o": {"holdout": 100}}, 10, 128) == 1100
    # per-class selection at 10 % retention over 1000 classes: ceil(1 / 0.1) = 10 per class
    assert needed({"arms": [{"retention_ratio": 100}, {"retention_ratio": 10}]}, 1000, 4) == 10000
    # at 50 %: a per-class fit needs 2 per class (1 kept)
    assert needed({"arms": [{"retention_ratio": 50}]}, 1000, 4) == 2000


def test_package_names_as_entry_points_spell_them():
    assert package_key("multigan-boosting") == package_key("multigan_boosting") == package_key("multigan")
    assert package_key("instance-selection") == "instance_selection"


def test_committed_table_marks_only_its_exact_config_rehearsed(tmp_path):
    import json

    import yaml

    from ganlab.core.rehearse import config_hash, rehearsed

    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump({"train": {"steps": 100}, "scales": {"paper": {}}}))
    table = tmp_path / "rehearsal.json"
    row = {"experiment": "pkg/exp", "config_hash": config_hash(config), "passed": True}
    table.write_text(json.dumps({"rehearsals": [row]}))
    empty_cache = tmp_path / "cache"
    assert rehearsed(config, empty_cache, committed=table)
    config.write_text(yaml.safe_dump({"train": {"steps": 200}, "scales": {"paper": {}}}))  # the config changed
    assert not rehearsed(config, empty_cache, committed=table)
    table.write_text(json.dumps({"rehearsals": [{**row, "config_hash": config_hash(config), "passed": False}]}))
    assert not rehearsed(config, empty_cache, committed=table)
