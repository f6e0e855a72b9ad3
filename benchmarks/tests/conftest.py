import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
if ROOT not in sys.path:  # lets the benchmark tests import tests.helpers and benchmarks
    sys.path.insert(0, ROOT)

import trico_basicsr  # noqa: E402,F401  (apply the compat fixes before any basicsr import)
