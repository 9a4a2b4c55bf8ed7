"""Checkpoint folders: their layout, their ``config.json``, where they are, how
they are written and loaded, the model card, the local store and the Hub.

- :mod:`~archzoo.checkpoints.layout`: the file names, in one place
- :mod:`~archzoo.checkpoints.meta`: ``config.json`` written and read back
- :mod:`~archzoo.checkpoints.locate`: a path, a store name or ``hf://`` -> a folder
- :mod:`~archzoo.checkpoints.io`: weights written atomically, loaded safely (torch)
- :mod:`~archzoo.checkpoints.card`: the model card
- :mod:`~archzoo.checkpoints.store`: the store as a list
- :mod:`~archzoo.checkpoints.hub`: push and pull with ``huggingface_hub``
- :mod:`~archzoo.checkpoints.amend`: add to a checkpoint without touching its weights
- :mod:`~archzoo.checkpoints.merge`: a LoRA checkpoint as a plain transformers model

Everything here but ``io`` and ``merge`` is torch-free (checked), so listing
a store or pulling from the Hub answers quickly.
"""
