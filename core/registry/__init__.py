"""What is installed and how it may be configured, known without importing torch.

- :mod:`~archzoo.registry.hookspecs`: the hooks a plugin implements
- :mod:`~archzoo.registry.specs`: ``ArchSpec``, ``DatasetSpec``, ``SampleResult``, the tasks
- :mod:`~archzoo.registry.config`: typed configs (``param``, ``TrainConfig``), validated everywhere
- :mod:`~archzoo.registry.settings`: ``registry.toml`` (presets, disabled plugins, the store)
- :mod:`~archzoo.registry.host`: finds plugins, collects what they register, dispatches the hooks
- :mod:`~archzoo.registry.plans`: a run's plan (architecture, dataset, validated configs)
- :mod:`~archzoo.registry.catalog`: what is installed, described for people (lists, forms)

The lowest layer but the errors: it imports nothing of archzoo's above it,
and no torch, gradio or transformers, not even inside a function (checked).
"""
