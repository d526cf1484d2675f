"""``python -m keymgmt``: see :mod:`keymgmt.cli`."""

import sys

from keymgmt.cli import main

sys.exit(main())
