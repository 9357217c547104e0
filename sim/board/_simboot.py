"""The boot of a virtual board with a serial console, done as the rp2 port does it: mount the
flash at `/`, run `boot.py`, then (unless the REPL is in raw mode) `main.py`, in the REPL's own
namespace, so that what main.py defines is there at the `>>>` prompt as on a Pico.

Run through _simconsole.py by sim/console.py, which starts the interpreter with `-i`: the unix
port's REPL (friendly, raw and raw-paste) follows when this returns. Environment:
- SIM_FLASH: the flash folder on the host (see _simflash for how writes are kept inside it);
- SIM_REPL: `raw` after a soft reset in the raw REPL (only boot.py runs then), else `friendly`;
- SIM_BOOT: `none` to run neither boot.py nor main.py (the console restarts the interpreter that
  a badly timed Ctrl-C ended), else `all`;
- SIM_MAIN: a host file to run instead of the flash's main.py (the node, for `sim node --serial`);
- SIM_PATH: host folders put first on sys.path, read-only (the node's, for `sim node --serial`);
- SIM_CONTROL_FD, SIM_RESET_CAUSE: see _simboard.
"""

import os
import sys
import vfs

# The stand-ins, imported while the host's folders are still on the path: once the flash is
# mounted at `/` they could not be found there, and programs find them in sys.modules instead.
import _simboard
import _simflash
import machine
import network
import select
import time

_S_IFREG = 0x8000


def boot(namespace):
    """Boot the board; `namespace` is the REPL's globals (those of the -i script)."""
    for name in ("_simboot", "__file__"):
        if name in namespace:
            del namespace[name]
    extra = [p for p in (os.getenv("SIM_PATH") or "").split(":") if p]
    on_path = ["%s/%d" % (_simflash.HIDDEN, i) for i in range(len(extra))]
    main = "main.py"
    program = os.getenv("SIM_MAIN")
    if program:
        folder, _, name = program.rpartition("/")
        if folder not in extra:
            extra.append(folder)
        main = "%s/%d/%s" % (_simflash.HIDDEN, extra.index(folder), name)
    # The board's modules loaded at their first use (_simirq, _simmachine, rp2, ...): last on the
    # path, where the rp2 port has them as C.
    extra.append(os.getenv("MICROPYPATH"))
    stand_ins = "%s/%d" % (_simflash.HIDDEN, len(extra) - 1)
    vfs.umount("/")
    vfs.mount(_simflash.Flash(os.getenv("SIM_FLASH"), extra), "/")
    os.chdir("/")
    sys.path[:] = on_path + ["", ".frozen", "/lib", stand_ins]  # the rp2 port's path after the node's
    _simboard.control("up")
    ok = os.getenv("SIM_BOOT") != "none" and _run("boot.py", namespace)
    if os.getenv("SIM_REPL") == "raw":
        # The console hides what the REPL prints from here until it is in raw mode (it starts
        # friendly, with a banner the rp2 port does not print after a soft reset in raw mode).
        sys.stdout.write("\x00sim:raw-repl\x00")
    elif ok:
        _run(main, namespace)


def _run(path, namespace):
    """Run `path` as the rp2 port's pyexec_file_if_exists does: True if it ran to its end (or
    there is no such file), False if it raised (the error printed, as on the board). A
    SystemExit soft-resets the board."""
    try:
        if not os.stat(path)[0] & _S_IFREG:
            return True
    except OSError:
        return True
    namespace["__file__"] = path
    try:
        execfile(path, namespace)
        return True
    except SystemExit:
        _simboard.control("soft")
        _simboard.wait_for_reset()
    except BaseException as e:  # KeyboardInterrupt too: the REPL comes next, as on a Pico
        sys.print_exception(e)
    return False
