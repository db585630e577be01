import os

import pytest
import torch


@pytest.fixture(autouse=True)
def _small_cpu(monkeypatch, tmp_path):
    """One thread (the machine is shared), no weights found by accident, no downloads."""
    torch.set_num_threads(1)
    monkeypatch.delenv("GANLAB_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.setenv("GANLAB_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("GANLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    os.makedirs(tmp_path / "weights", exist_ok=True)
    yield
