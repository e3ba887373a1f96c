"""`python -m tools.loadtest` (see tools/loadtest/__init__.py)."""

import sys

from tools.loadtest.cli import main

sys.exit(main())
