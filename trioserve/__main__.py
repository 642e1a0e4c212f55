"""``python -m trioserve``: the same as the console script."""

import sys

from trioserve.cli import main

sys.exit(main())
