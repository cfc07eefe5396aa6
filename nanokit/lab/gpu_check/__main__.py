"""`python -m nanokit.lab.gpu_check`: see the package docstring."""

import sys

from nanokit.lab.gpu_check import main

sys.exit(main())
