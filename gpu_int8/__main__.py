"""``python -m gpu_int8`` runs the command line."""

import sys

from gpu_int8.cli.main import main

sys.exit(main())
