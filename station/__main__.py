"""``python -m station`` = the ``station`` command."""

import sys

from station.cli import main

sys.exit(main())
