"""``python -m mixgraph``: the same as the ``mixgraph`` console script."""

import sys

from mixgraph.cli import main

sys.exit(main())
