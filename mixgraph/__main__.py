"""``python -m mixgraph``: the same as the ``mixgraph`` console script."""

import sys

from mixgraph.cli import entry

sys.exit(entry())
