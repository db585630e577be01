"""One paper config per package rehearsed by the tests (issue 21, item 6; every config runs in ``nox -s rehearse``):
the paper config derived to its short schedule, on stand-in data in the real file formats and stand-in weights,
through the package's harness, one process. Dia-GAN's is in core/tests/base/test_rehearse_modes.py (one and two
processes, killed and resumed). Each must pass, train, and evaluate."""

from __future__ import annotations

import pytest

from ganlab.core.rehearse_modes import rehearse_mode
from ganlab.core.repro import get_experiment

# package -> (a paper config that is cheap to rehearse, the trainings its rehearsal runs)
CONFIGS = {
    "gold/figure2": 1,  # GOLD re-weighting on MNIST (idx files), the paper's batch of 128
    "multigan-boosting/table1_baseline": 0,  # the real-data row: CIFAR-10 (python pickles) through Inception (IS/FID)
    "instance-selection/mini": 5,  # embedding, density scoring, selection and SAGAN training
}


# in the default run: GOLD's (about 20 s) and Dia-GAN's (test_rehearse_modes.py); the boosting and instance-selection
# rehearsals (about 1 min each on 2 cores) are marked slow to keep the test run under 15 minutes
SLOW = ("instance-selection/mini", "multigan-boosting/table1_baseline")
PARAMS = [pytest.param(k, marks=pytest.mark.slow) if k in SLOW else k for k in sorted(CONFIGS)]


@pytest.mark.parametrize("key", PARAMS)
def test_paper_config_rehearses(key, tmp_path):
    # a shorter schedule than nox -s rehearse's (24 steps, 32 evaluation samples), for the time of the test run
    result = rehearse_mode(key, get_experiment(key), cache_dir=tmp_path / "cache", timeout_s=600, steps=12, n_eval=16)
    assert result.status == "pass", result.error
    ph = result.phases
    assert ph["evaluated"] and ph["trainings"] == CONFIGS[key]
    if ph["steps_planned"]:  # the planned schedule ran to its end
        assert ph["steps_reached"] == ph["steps_planned"]
