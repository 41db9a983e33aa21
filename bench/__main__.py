"""Run every benchmark: python -m bench"""

import runpy
import sys

for name in ("bench.subjects", "bench.notices", "bench.staff_login", "bench.consent",
             "bench.contacts", "bench.rights",
             "bench.backup", "bench.dashboard", "bench.worker_crash", "bench.erasure_ledger"):
    sys.argv = [name]
    runpy.run_module(name, run_name="__main__")
