"""Where the firmware lives on the board's flash, so that a reset at any moment boots either the
old firmware or the new one:

    /boot.py              reads /firmware/active and puts that copy first on sys.path
    /main.py              the node's entry point (source: the board runs only main.py as source)
    /firmware/active      "a" or "b": the copy that boots, switched by one atomic rename
    /firmware/a/, /firmware/b/   two copies: config.py, config_local.py, secrets.py, lib/*.mpy
    /lib/umqtt/simple.mpy installed by mip, shared by both copies

A deploy writes the copy that is not active, checks every file's hash on the board, then renames
/firmware/active.new over /firmware/active. boot.py and main.py are replaced by a rename each too.
"""

FIRMWARE_DIR = "/firmware"
SLOTS = ("a", "b")
POINTER = FIRMWARE_DIR + "/active"
POINTER_NEW = POINTER + ".new"
ROOT_FILES = ("boot.py", "main.py")   # at /, each replaced by renaming NAME.new over it
NEW_SUFFIX = ".new"
MIP_TARGET = "/lib"


def slot_dir(slot):
    return FIRMWARE_DIR + "/" + slot


def other_slot(slot):
    """The copy to write: the one not booting (a, when nothing is deployed yet)."""
    return "b" if slot == "a" else "a"
