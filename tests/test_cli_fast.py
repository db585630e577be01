"""``ganlab --help`` with every package installed: no torch (nor numpy) is imported while the commands register."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

HEAVY = ("torch", "torchvision", "numpy", "scipy", "matplotlib", "PIL", "sklearn")


# A fresh interpreter runs ``ganlab --help`` as the console script does, then reports the modules it loaded
# (``-X importtime`` would miss modules that importlib.metadata loads through importlib.import_module).
PROBE = """
import json, runpy, sys
sys.argv = ["ganlab", "--help"]
try:
    runpy.run_module("ganlab.core.cli", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
print("MODULES=" + json.dumps(sorted(sys.modules)))
"""


def test_help_registers_every_package_without_importing_torch():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    help_text, _, listing = proc.stdout.rpartition("MODULES=")
    imported = set(json.loads(listing))
    assert {"ganlab.core.cli", "ganlab.gold.cli", "ganlab.icgan.cli"} <= imported  # the listing is real
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert not heavy, f"`ganlab --help` imported {heavy[:10]}"
    names = {ep.name for ep in entry_points(group="ganlab.commands")} - {"core"}
    assert names >= {"gold", "icgan", "diagan", "multigan-boosting", "instance-selection", "bench"}
    for name in names:  # every package did register (its subcommand is listed in the help)
        assert name in help_text


def test_multigan_cli_choices_agree_with_algorithm_one():
    from ganlab.multigan_boosting import cli_gan, weights

    assert cli_gan.TRANSFORMS == weights.TRANSFORMS
    assert cli_gan.SYNTHETIC_SETS == weights.SYNTHETIC_SETS


def test_lazy_package_namespaces_still_export_their_names():
    import ganlab.gold
    import ganlab.icgan
    from ganlab.gold.estimator import gold_estimator
    from ganlab.icgan.api import ICGAN

    assert ganlab.gold.gold_estimator is gold_estimator and ganlab.icgan.ICGAN is ICGAN
    for module in (ganlab.gold, ganlab.icgan):
        for name in module.__all__:
            assert getattr(module, name) is not None
