"""`python -m aftercare` is the `aftercare` command."""

import sys

from aftercare.cli import main

sys.exit(main())
