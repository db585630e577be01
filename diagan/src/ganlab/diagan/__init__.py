"""ganlab.diagan: Self-Diagnosing GAN (Lee, Kim, Hong, Chung; NeurIPS 2021).

- :mod:`ganlab.diagan.ldr`: LDR recording, LDRM/LDRV (eq. 2), score (eq. 7), clipping and sampling probabilities;
- :mod:`ganlab.diagan.method`: the ``diagan`` training method (phases 1-3) and DRS sampling with the auxiliary D;
- :mod:`ganlab.diagan.analysis`: the diagnosis measurements of the paper's figures and tables;
- :mod:`ganlab.diagan.repro`: the reproduction experiments; :mod:`ganlab.diagan.scores`: Figure 3 of a run.
"""

__version__ = "0.1.0"
