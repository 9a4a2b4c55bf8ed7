"""Training: the one loop every plugin shares, and the queue that runs it.

- :mod:`~archzoo.training.launch`: ``train()``: plan, data, trainer, from a name and settings
- :mod:`~archzoo.training.trainer`: the loop on Accelerate (seeding, optimizers, evaluation,
  early stopping, checkpoints, resuming, cancellation)
- :mod:`~archzoo.training.context`: the ``ctx`` a plugin's hooks receive
- :mod:`~archzoo.training.resume`: what a resumed run may change
- :mod:`~archzoo.training.synchronise`: keeping a model identical across processes by hand
- :mod:`~archzoo.training.queue`: runs one at a time in a worker thread, with a visible queue
"""
