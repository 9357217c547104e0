"""For every test: the virtual boards that `python -m sim node` makes by name (sim/boards.py) go under this
run's own temporary folder, never the user's <temp>/picostate-<uid>/boards."""

import os

import pytest

from sim import boards


@pytest.fixture(autouse=True, scope="session")
def _own_boards_folder(tmp_path_factory):
    saved = os.environ.get(boards.ROOT_ENV)
    os.environ[boards.ROOT_ENV] = str(tmp_path_factory.mktemp("boards"))
    yield
    if saved is None:
        os.environ.pop(boards.ROOT_ENV, None)
    else:
        os.environ[boards.ROOT_ENV] = saved
