"""The test suite. Imported before `tests/conftest.py` and so before any ehrlich module."""

import os

# The `ehrlich` command's consoles (rich) fix their width when created, from COLUMNS if it is
# set (a pytest-xdist worker has COLUMNS=80). Without it they read COLUMNS at each print,
# so the `cli` fixture, which runs the command in this process, can make it as wide as a
# subprocess gets.
os.environ.pop("COLUMNS", None)
