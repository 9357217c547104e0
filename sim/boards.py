"""Where a virtual board lives when no `--board DIR` is given: one folder per name, stable across runs,
so that `python -m sim pins desk GP14=0` and `python -m sim press desk GP14` find the board of
`python -m sim node --id desk` without copying a temporary path.

The folders are under $PICOSTATE_BOARDS, by default <temp dir>/picostate-<uid>/boards: a node's board is
named by its device id (`node` when it has none given). `resolve()` turns what a person types (a name, a
folder, or nothing when only one board is there) into the folder, or says in one line why it cannot.
"""

import os
import tempfile
from pathlib import Path

ROOT_ENV = "PICOSTATE_BOARDS"
NODE = "node"       # the name of a node's board when no --id is given


def root():
    given = os.environ.get(ROOT_ENV)
    if given:
        return Path(given)
    return Path(tempfile.gettempdir()) / ("picostate-%d" % os.getuid()) / "boards"


def folder(name):
    """The stable folder of the board named `name`. Raises ValueError for a name that is a path."""
    if not name or "/" in name or name in (".", "..") or name.startswith("."):
        raise ValueError(f"a board's name cannot be {name!r}")
    return root() / name


def known():
    """The names of the boards there are folders for."""
    base = root()
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def resolve(text):
    """The board folder for `text`: a folder (a path, or a name of a folder that exists here), a board's
    name, or None (the only board there is). Raises ValueError saying what there is instead."""
    if text is None:
        names = known()
        if len(names) == 1:
            return folder(names[0])
        if not names:
            raise ValueError(f"no board yet under {root()}: start one (python -m sim node --id NAME), "
                             "or give --board DIR")
        raise ValueError("which board? there are %d: %s (give one: --board NAME)" % (len(names), ", ".join(names)))
    path = Path(text)
    if "/" in text or text.startswith(".") or path.is_dir():
        if not path.is_dir():
            raise ValueError(f"no board directory at {path}")
        return path
    board = folder(text)
    if not board.is_dir():
        names = known()
        there = ("the boards there are: " + ", ".join(names)) if names else "there is none yet"
        raise ValueError(f"no board named {text!r} under {root()} ({there})")
    return board
