"""multigan tests: helpers live in mg_testutils.py (this folder goes on sys.path for them); one thread."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)
