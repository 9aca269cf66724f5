"""Calibration of the synthetic generator against BRIEF section 3, above the generator.

The generator (:mod:`pipelines.synthetic`) is a leaf: it simulates and writes raw register tables
and their ground truth and imports only ``data_schema``, numpy/pandas/pyarrow and itself. What
needs the results layer (``analysis.star2022``, ``pipelines.reproduction``) lives here:

* :mod:`pipelines.calibration.targets` - the published statistics and tolerances;
* :mod:`pipelines.calibration.pipeline_stats` - the package's own STAR statistics on a synthetic
  register;
* :mod:`pipelines.calibration.calibrate` - the calibration loop
  (``python -m pipelines.calibration.calibrate``);
* :mod:`pipelines.calibration.expected` - :func:`synthesize`: generate a register and add the
  pipeline statistics to its ``expected_statistics.json`` (what ``star synth`` runs).
"""
