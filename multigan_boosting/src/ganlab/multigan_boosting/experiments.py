"""Every reproduction of the package (the ``ganlab.repro`` entry point): the classifier side (Table 1, Table 3,
§4.1; :mod:`~ganlab.multigan_boosting.repro`) and the GAN side (Tables 2 and 4, Appendix A.2, Figures 1-2;
:mod:`~ganlab.multigan_boosting.gan_repro`)."""

from __future__ import annotations

from ganlab.core.repro import Experiment
from ganlab.multigan_boosting.gan_repro import GAN_EXPERIMENTS
from ganlab.multigan_boosting.repro import CLASSIFIER_EXPERIMENTS

__all__ = ["EXPERIMENTS"]

EXPERIMENTS: dict[str, Experiment] = {**CLASSIFIER_EXPERIMENTS, **GAN_EXPERIMENTS}
