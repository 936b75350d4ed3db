"""E3's packing networks from the command line: the plan of a profile, or training what is missing.

    .venv/bin/python scripts/packing.py --profile quick --dry-run   # the plan, nothing trained
    .venv/bin/python scripts/packing.py --profile quick --yes       # train (even if long)
    .venv/bin/python scripts/packing.py --profile paper --backend ray --address auto --yes

(:func:`lib.experiments.packing.main`; a module of ``lib.experiments`` cannot be run with ``-m``
without being imported twice, since the package imports it for its chapter parameters.)
"""

import sys

from lib.experiments.packing import main

if __name__ == "__main__":
    sys.exit(main())
