"""``python -m bpcore ...`` runs the command line (see :mod:`bpcore.cli`)."""

import sys

from .cli import main

sys.exit(main())
