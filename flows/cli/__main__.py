"""``python -m posegraph.flows.cli`` (used under ``torchrun``)."""

import sys

from . import main

sys.exit(main())
