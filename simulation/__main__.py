"""`python -m simulation` is the same as `scsim`."""
import sys

from .cli import main

sys.exit(main())
