"""`python -m qa` runs the command line."""
import sys

from qa.cli import main

sys.exit(main())
