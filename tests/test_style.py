"""The code style setup.cfg configures for flake8 (line length, complexity, pyflakes) holds:
the suite fails on a new long line, an unused import or a tangled function, with flake8's own
report as the message."""
from __future__ import annotations

import subprocess
import sys

from configurator.config import ROOT


def test_flake8_finds_nothing():
    found = subprocess.run(
        [sys.executable, "-m", "flake8", "configurator", "benchmarks", "tests"],
        cwd=ROOT, capture_output=True, text=True)
    assert found.returncode == 0, found.stdout + found.stderr
