"""`python -m simulation` is the same as `scsim`."""

import sys

from simulation.cli import main

sys.exit(main())
