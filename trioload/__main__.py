"""``python -m trioload``: the same as the console script."""

import sys

from trioload.cli import main

sys.exit(main())
