"""`python -m harness` entry point."""

import sys

from harness.app.cli import main

sys.exit(main())
