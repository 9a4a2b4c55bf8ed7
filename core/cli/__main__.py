"""``python -m archzoo.cli``: the same as the ``archzoo`` command (torchrun starts it this way)."""

import sys

from archzoo.cli import main

sys.exit(main())
