"""Entry point: ``python3 -m zsbed``."""
import sys

from zsbed.cli.cli import main

sys.exit(main())
