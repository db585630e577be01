"""Every reproduction of the package (the ``ganlab.repro`` entry point): the classifier side (Table 1, Table 3,
§4.1) and the GAN side (Tables 2 and 4, Appendix A.2, Figures 1-2), all declared in
:mod:`~ganlab.multigan_boosting.repro` and run by core's harness."""

from __future__ import annotations

from ganlab.core.repro import Experiment
from ganlab.multigan_boosting.repro import EXPERIMENTS as _ALL

__all__ = ["EXPERIMENTS"]

EXPERIMENTS: dict[str, Experiment] = dict(_ALL)
