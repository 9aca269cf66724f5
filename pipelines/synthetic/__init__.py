"""Synthetic kontanthjælp register: a calibrated monthly microsimulation with ground truth.

Entry points:

* :func:`generate` - simulate and write the register tables + ``ground_truth/`` to a directory
  (``star synth``);
* :func:`simulate` - the same tables as pandas frames in memory (small sizes);
* :func:`pipelines.synthetic.dynamics.simulate` - the raw simulation (event logs), e.g. for
  scenario effects with :class:`Intervention` and common random numbers;
* :mod:`pipelines.synthetic.design` - the covariates and linear predictors of the true model.

See ``pipelines/synthetic/README.md``.
"""

from pipelines.synthetic.dynamics import Intervention
from pipelines.synthetic.generate import GenerateResult, SyntheticRegister, generate, simulate
from pipelines.synthetic.params import SynthParams, load_params

__all__ = [
    "GenerateResult",
    "Intervention",
    "SynthParams",
    "SyntheticRegister",
    "generate",
    "load_params",
    "simulate",
]
