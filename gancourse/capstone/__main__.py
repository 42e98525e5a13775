"""``python -m gancourse.capstone``: see ``gancourse.capstone.cli``."""

import sys

from gancourse.capstone.cli import main

if __name__ == "__main__":
    sys.exit(main())
