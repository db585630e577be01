"""Every benchmarks test writes its cache (the suites' in-domain evaluators, parsed data) under one temporary
folder of the test session, never the user's ``~/.cache/ganlab``."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ganlab_cache")


@pytest.fixture(autouse=True)
def _cache_dir(_session_cache, monkeypatch):
    monkeypatch.setenv("GANLAB_CACHE_DIR", str(_session_cache))
