"""`--heap SIZE` on `python -m sim run` and `node`: the interpreter gets that heap (`-X heapsize`), and a
bad SIZE is a one-line usage error that starts nothing."""

import pytest

from sim import runner
from tests.sim.sim_helpers import cli as sim

HEAP_PROGRAM = "import gc\nprint('heap', gc.mem_free() + gc.mem_alloc())\n"


@pytest.mark.parametrize("size, low, high", [("64K", 48 * 1024, 64 * 1024), ("262144", 240 * 1024, 256 * 1024)])
def test_run_gives_the_program_the_heap_asked_for(tmp_path, size, low, high):
    program = tmp_path / "heap.py"
    program.write_text(HEAP_PROGRAM)
    done = sim("run", program, "--heap", size)
    assert done.returncode == 0, done.stderr
    heap = int(done.stdout.split()[-1])
    assert low < heap <= high       # the collector's own tables come out of it


def test_a_heap_too_small_for_the_program_is_a_memory_error(tmp_path):
    program = tmp_path / "big.py"
    program.write_text("x = bytearray(100 * 1024)\nprint('fitted')\n")
    assert sim("run", program, "--heap", "256K").stdout == "fitted\n"
    done = sim("run", program, "--heap", "64K")
    assert done.returncode == 1
    assert "MemoryError" in done.stdout


@pytest.mark.parametrize("command", ["run", "node"])
@pytest.mark.parametrize("size", ["lots", "12G", "0", "8K", "2048M", "-1K", ""])
def test_a_bad_size_is_a_one_line_usage_error(tmp_path, command, size):
    program = tmp_path / "heap.py"
    program.write_text(HEAP_PROGRAM)
    args = ["run", program] if command == "run" else ["node", "--board", tmp_path / "board"]
    done = sim(*args, "--heap=" + size)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == ["sim: --heap takes a size in bytes with an optional K or M, from 16K to "
                                        "1024M, e.g. 128K, not %r" % size]
    assert not (tmp_path / "board").exists()


def test_parse_heap_normalises_what_the_interpreter_is_given():
    assert runner.parse_heap("128k") == "128K"
    assert runner.parse_heap(" 2M ") == "2M"
    assert runner.parse_heap(131072) == "131072"
    with pytest.raises(ValueError):
        runner.parse_heap("1.5M")
