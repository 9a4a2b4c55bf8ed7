"""archzoo's plugin contract suite, run on this plugin's architecture.

Install the plugin first (``pip install -e .``), then run ``pytest``; or run
``archzoo check softmax-regression``, which runs the same checks.
"""

from archzoo.testing import ContractSuite


class TestSoftmaxRegression(ContractSuite):
    architecture = "softmax-regression"
