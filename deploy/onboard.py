"""The small programs deploy runs on the board with `mpremote exec`, and the reading of what they
print. Each starts by feeding the watchdog (see WDT_FEED), since every mpremote command interrupts the
node that fed it.

The probe prints one `I {json}` line (identity, version, free flash, the active copy) and one
`F <path> <size> <sha256>` line per file of the deployed firmware.
"""

import json

from deploy import layout

# The node arms an 8 s machine.WDT that cannot be stopped and survives a soft reset: constructing
# it again re-arms (feeds) it with this timeout. The RP2040's longest is 8.3 s, so 8 s suits both
# Picos. On a board whose watchdog was off this arms one: the deploy ends with a hard reset, which
# turns it off again.
WDT_FEED = "import machine\nmachine.WDT(timeout=8000)\n"

_HASH_FN = """
import hashlib, binascii, os
def _sha(p):
    h = hashlib.sha256()
    b = bytearray(512)
    with open(p, "rb") as f:
        while True:
            n = f.readinto(b)
            if not n:
                break
            h.update(memoryview(b)[:n])
    return binascii.hexlify(h.digest()).decode()
"""

_PROBE = WDT_FEED + _HASH_FN + """
import sys, json
def _files(d):
    try:
        names = [e[0] for e in os.ilistdir(d)]
    except OSError:
        return
    for n in names:
        p = d + "/" + n
        if os.stat(p)[0] & 0x4000:
            _files(p)
        else:
            print("F", p, os.stat(p)[6], _sha(p))
_i = {"version": list(sys.implementation.version[:3]),
      "machine": getattr(sys.implementation, "_machine", sys.platform),
      "mpy": getattr(sys.implementation, "_mpy", 0) & 0xFF,
      "uid": binascii.hexlify(machine.unique_id()).decode()}
try:
    import _simboard
    _i["virtual"] = True
except ImportError:
    _i["virtual"] = False
try:
    _s = os.statvfs("/")
    _i["free"] = _s[0] * _s[4]
    _i["block"] = _s[0]
except OSError:
    _i["free"] = None
try:
    import umqtt.simple
    _i["umqtt"] = True
except Exception:   # missing, or a broken copy: (re)install it
    _i["umqtt"] = False
try:
    with open("%(pointer)s") as f:
        _i["active"] = f.read().strip()
except OSError:
    _i["active"] = None
print("I", json.dumps(_i))
for _p in %(roots)r:
    try:
        print("F", "/" + _p, os.stat("/" + _p)[6], _sha("/" + _p))
    except OSError:
        pass
for _s in %(slots)r:
    _files("%(firmware)s/" + _s)
"""


def probe_script():
    return _PROBE % {"pointer": layout.POINTER, "roots": layout.ROOT_FILES,
                     "slots": layout.SLOTS, "firmware": layout.FIRMWARE_DIR}


def parse_probe(text):
    """(info dict, {path: (size, sha256)}) from the probe's output. Raises ValueError."""
    info = None
    files = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("I {"):
            info = json.loads(line[2:])
        elif line.startswith("F /"):
            parts = line.split(" ")
            if len(parts) != 4 or not parts[2].isdigit() or len(parts[3]) != 64:
                raise ValueError(f"unexpected line from the board: {line!r}")
            files[parts[1]] = (int(parts[2]), parts[3])
    if info is None:
        raise ValueError("the board did not answer the probe: " + (text.strip()[-200:] or "(nothing)"))
    return info, files


def prepare_script(dirs, remove):
    """Make `dirs` (parents first) and remove the files in `remove`, then those files' folders
    that are left empty and not among `dirs`."""
    return WDT_FEED + """
import os
for d in %r:
    try:
        os.mkdir(d)
    except OSError:
        pass
for p in %r:
    try:
        os.remove(p)
    except OSError:
        pass
for d in %r:
    try:
        os.rmdir(d)
    except OSError:
        pass
""" % (list(dirs), list(remove), _emptied(dirs, remove))


def _emptied(dirs, remove):
    """Folders that removing `remove` may leave empty and that are not wanted: deepest first."""
    keep = set(dirs)
    return sorted({p.rpartition("/")[0] for p in remove} - keep, key=len, reverse=True)


def switch_script(expect, renames, slot):
    """Check that every (path, sha256) in `expect` is on the board as it should be; then rename
    each (new, final) of `renames`, then point /firmware/active at `slot` by a rename. A file
    that is missing or different raises before anything is switched."""
    return WDT_FEED + _HASH_FN + """
bad = []
for p, h in %(expect)r:
    try:
        if _sha(p) != h:
            bad.append(p)
    except OSError:
        bad.append(p)
if bad:
    raise OSError("not as copied: " + " ".join(bad))
def _replace(new, final):
    try:
        os.rename(new, final)       # littlefs replaces `final` in one step
    except OSError:
        try:                        # FAT refuses to rename over a file
            os.remove(final)
        except OSError:
            pass
        os.rename(new, final)
for new, final in %(renames)r:
    _replace(new, final)
with open("%(pointer_new)s", "w") as f:
    f.write(%(slot)r)
_replace("%(pointer_new)s", "%(pointer)s")
if hasattr(os, "sync"):
    os.sync()
print("switched to", %(slot)r)
""" % {"expect": list(expect), "renames": list(renames), "slot": slot,
       "pointer": layout.POINTER, "pointer_new": layout.POINTER_NEW}
