"""One environment variable per setting: GANLAB_CACHE_DIR names the cache; the old GANLAB_CACHE is read for one
release, with a deprecation line printed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganlab.core import fileio
from ganlab.core.data.embedded import cache_dir
from ganlab.core.data.fingerprint import cache_path
from ganlab.core.metrics.evaluate import _default_cache_dir


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv("GANLAB_CACHE_DIR", raising=False)
    monkeypatch.delenv("GANLAB_CACHE", raising=False)
    monkeypatch.setattr(fileio, "_noticed", set())


def _every_cache(root: Path) -> None:
    assert fileio.cache_root() == root and cache_dir() == root
    assert cache_path() == root / "fingerprints.sqlite" and _default_cache_dir() == root / "features"


def test_cache_dir_names_every_cache_and_prints_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANLAB_CACHE_DIR", str(tmp_path / "c"))
    _every_cache(tmp_path / "c")
    assert capsys.readouterr().err == ""


def test_default_is_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    _every_cache(tmp_path / ".cache" / "ganlab")


def test_old_name_still_works_with_one_deprecation_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANLAB_CACHE", str(tmp_path / "old"))
    _every_cache(tmp_path / "old")  # four reads ...
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # ... one line
    assert "DeprecationWarning" in err and "$GANLAB_CACHE is deprecated" in err and "$GANLAB_CACHE_DIR" in err


def test_new_name_wins_over_the_old_one_silently(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANLAB_CACHE", str(tmp_path / "old"))
    monkeypatch.setenv("GANLAB_CACHE_DIR", str(tmp_path / "new"))
    _every_cache(tmp_path / "new")
    assert capsys.readouterr().err == ""


def test_no_module_reads_the_old_name_directly():
    src = Path(__file__).resolve().parents[3]
    readers = [
        p
        for p in src.glob("*/src/ganlab/**/*.py")
        if 'GANLAB_CACHE"' in p.read_text() or "GANLAB_CACHE'" in p.read_text()
    ]
    assert readers == [src / "core/src/ganlab/core/fileio.py"]
