"""gold tests: helpers live in gold_testutils.py (this folder goes on sys.path for them); one thread per test run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
