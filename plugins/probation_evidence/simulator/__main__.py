"""``python -m probation_evidence.simulator serve ...``: run the simulated provider systems."""

import sys

from probation_evidence.simulator.server import main

sys.exit(main())
