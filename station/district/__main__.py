"""``python -m station.district``: the district desk command (see :mod:`station.district.cli`)."""

import sys

from station.district.cli import main

sys.exit(main())
