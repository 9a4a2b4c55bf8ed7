"""Judging a checkpoint: beyond its own ``evaluate`` hook's numbers.

- :mod:`~archzoo.evaluation.evaluate`: ``archzoo eval``
- :mod:`~archzoo.evaluation.logits`, :mod:`~archzoo.evaluation.accuracy`,
  :mod:`~archzoo.evaluation.metrics`: scores once, accuracy intervals, per-class numbers, confusion
- :mod:`~archzoo.evaluation.calibration`, :mod:`~archzoo.evaluation.ood`, :mod:`~archzoo.evaluation.shift`:
  what accuracy hides
- :mod:`~archzoo.evaluation.verdict`, :mod:`~archzoo.evaluation.trust`, :mod:`~archzoo.evaluation.report`,
  :mod:`~archzoo.evaluation.plots`: the trust report and its figures
- :mod:`~archzoo.evaluation.fid`: FID-<dataset> for generators
"""
