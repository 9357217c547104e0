"""Fixtures for the virtual board's tests: programs started on a board are always stopped."""

import pytest

from sim import runner
from tests.sim.sim_helpers import PROGRAMS


@pytest.fixture
def launch():
    """launch(program_name, *args, **start_kw) -> Run, stopped at the end of the test."""
    runs = []

    def _launch(name, *args, **kw):
        run = runner.start(PROGRAMS / name, *args, **kw)
        runs.append(run)
        return run

    yield _launch
    for run in runs:
        run.stop()
