"""Typed configs: YAML + inherit + scales + dotted overrides, with clear errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest
import yaml

from ganlab.core.config import (
    config_diff,
    from_dict,
    load_config,
    parse_override,
    read_yaml,
    save_config,
    to_dict,
)
from ganlab.core.errors import ConfigError


@dataclass
class Optim:
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_dis: int = 1

    def validate(self) -> None:
        if self.n_dis < 1:
            raise ValueError("n_dis must be >= 1")


@dataclass
class Cfg:
    name: str = "x"
    loss: Literal["ns", "hinge"] = "ns"
    steps: int = 10
    root: str | None = None
    tags: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    optim: Optim = field(default_factory=Optim)


def test_defaults_and_nested_types():
    cfg = from_dict(Cfg, {"optim": {"lr": 1, "betas": [0.0, 0.9]}, "tags": ["a"]})
    assert cfg.optim.lr == 1.0 and isinstance(cfg.optim.lr, float)
    assert cfg.optim.betas == (0.0, 0.9)
    assert cfg.tags == ["a"] and cfg.steps == 10 and cfg.root is None


def test_unknown_key_names_key_valid_keys_and_closest_match():
    with pytest.raises(ConfigError) as err:
        from_dict(Cfg, {"optim": {"lrr": 0.1}})
    msg = str(err.value)
    assert "'optim.lrr'" in msg and "betas, lr, n_dis" in msg and "optim.lr" in msg


def test_an_optional_section_names_its_own_bad_key():
    @dataclass
    class Outer:
        optim: Optim | None = None

    assert from_dict(Outer, {"optim": None}).optim is None
    with pytest.raises(ConfigError) as err:
        from_dict(Outer, {"optim": {"lrr": 0.1}})
    msg = str(err.value)
    assert "'optim.lrr'" in msg and "betas, lr, n_dis" in msg and "optim.lr" in msg
    with pytest.raises(ConfigError, match="n_dis must be >= 1"):
        from_dict(Outer, {"optim": {"n_dis": 0}})


def test_type_errors():
    with pytest.raises(ConfigError, match="steps.*integer"):
        from_dict(Cfg, {"steps": "many"})
    with pytest.raises(ConfigError, match="'ns', 'hinge'"):
        from_dict(Cfg, {"loss": "wgan"})
    with pytest.raises(ConfigError, match="expected 2 values"):
        from_dict(Cfg, {"optim": {"betas": [0.1]}})
    with pytest.raises(ConfigError, match="true or false|number"):
        from_dict(Optim, {"lr": True})


def test_validate_hook_errors_become_config_errors():
    with pytest.raises(ConfigError, match="n_dis must be >= 1"):
        from_dict(Cfg, {"optim": {"n_dis": 0}})


def test_inherit_scales_and_overrides(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({"name": "base", "steps": 5, "optim": {"lr": 0.1}}))
    (tmp_path / "exp.yaml").write_text(
        yaml.safe_dump(
            {
                "inherit": "base.yaml",
                "name": "exp",
                "scales": {"smoke": {"steps": 2}, "paper": {"steps": 500000, "optim": {"n_dis": 2}}},
            }
        )
    )
    assert read_yaml(tmp_path / "exp.yaml")["optim"]["lr"] == 0.1
    smoke = load_config(Cfg, tmp_path / "exp.yaml", scale="smoke")
    paper = load_config(Cfg, tmp_path / "exp.yaml", ["optim.lr=2e-4", "tags=[a, b]"], scale="paper")
    plain = load_config(Cfg, tmp_path / "exp.yaml")
    assert (smoke.name, smoke.steps, smoke.optim.lr) == ("exp", 2, 0.1)
    assert (paper.steps, paper.optim.n_dis, paper.optim.lr, paper.tags) == (500000, 2, 2e-4, ["a", "b"])
    assert plain.steps == 5
    with pytest.raises(ConfigError, match="unknown scale"):
        load_config(Cfg, tmp_path / "exp.yaml", scale="huge")


@pytest.mark.parametrize("bad", ["steps", "=3", "a..b=1", "optim.lr=[1,"])
def test_malformed_overrides(bad):
    with pytest.raises(ConfigError, match="malformed override"):
        parse_override(bad)


def test_override_into_a_value_is_an_error():
    with pytest.raises(ConfigError, match="is a value, not a section"):
        load_config(Cfg, None, ["steps.x=1"])


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_yaml(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("a: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        read_yaml(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        read_yaml(tmp_path / "list.yaml")


def test_round_trip_and_diff(tmp_path):
    cfg = load_config(Cfg, None, ["optim.lr=0.5", "options={a: 1}"])
    save_config(cfg, tmp_path / "c.yaml")
    again = load_config(Cfg, tmp_path / "c.yaml")
    assert to_dict(again) == to_dict(cfg)
    other = load_config(Cfg, tmp_path / "c.yaml", ["steps=3", "options.b=2"])
    assert config_diff(cfg, other) == ["options.b: '<absent>' -> 2", "steps: 10 -> 3"]
