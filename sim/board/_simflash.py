"""The flash of a virtual board with a serial console: a filesystem object that the boot script
mounts at `/`, in place of the unix port's view of the whole host filesystem.

Every path the program or mpremote gives (absolute or relative to the board's own current
folder) is made absolute and has its `.` and `..` resolved here, never above `/`, before it is
joined to the flash folder on the host: nothing written through it can land outside that folder.
(The unix port's own `vfs.VfsPosix(root)` would not do: it joins `root + path` and lets the host
resolve a `..` past the root.)

Host folders the board must read but not write (the node's sources, for `sim node --serial`) are
reachable read-only as `/.simhost/0`, `/.simhost/1`, ...; `/` does not list them.
"""

import vfs

HIDDEN = "/.simhost"
_ENOENT = 2
_ENOTDIR = 20
_EROFS = 30
_S_IFDIR = 0x4000


def normalize(path, cwd="/"):
    """The absolute board path for `path` seen from `cwd`, without `.`, `..` or doubled `/`;
    a `..` at the top stays at `/`, as on any filesystem."""
    if path.startswith("/") and "//" not in path and "/." not in path and not path.endswith("/"):
        # Already so (what the import system asks for, a few times per module imported): taken as it
        # is, allocating nothing. Every list and string made here is garbage between the module's
        # bytecode, and a board in a heap like a Pico's has no room to waste on the holes.
        return path
    if not path.startswith("/"):
        path = cwd + "/" + path
    parts = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


class Flash:
    def __init__(self, root, extra=()):
        self._host = vfs.VfsPosix()  # no root of its own: it gets whole host paths from here
        self._root = root.rstrip("/")
        self._extra = list(extra)
        self._cwd = "/"

    def _host_path(self, path, write=False):
        board = normalize(path, self._cwd)
        if board == HIDDEN or board.startswith(HIDDEN + "/"):
            if write:
                raise OSError(_EROFS)
            index, _, rest = board[len(HIDDEN) + 1:].partition("/")
            try:
                base = self._extra[int(index)]
            except (ValueError, IndexError):
                raise OSError(_ENOENT)
            return base + "/" + rest if rest else base
        return self._root + board

    # The methods the VFS layer calls (see vfs.mount in the MicroPython docs).
    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def open(self, path, mode):
        writes = "w" in mode or "a" in mode or "+" in mode or "x" in mode
        return self._host.open(self._host_path(path, writes), mode)

    def ilistdir(self, path):
        return self._host.ilistdir(self._host_path(path))

    def stat(self, path):
        return self._host.stat(self._host_path(path))

    def statvfs(self, path):
        return self._host.statvfs(self._host_path(path))

    def mkdir(self, path):
        self._host.mkdir(self._host_path(path, True))

    def rmdir(self, path):
        if normalize(path, self._cwd) == "/":
            raise OSError(_EROFS)  # the flash folder itself stays
        self._host.rmdir(self._host_path(path, True))

    def remove(self, path):
        self._host.remove(self._host_path(path, True))

    def rename(self, old, new):
        self._host.rename(self._host_path(old, True), self._host_path(new, True))

    def chdir(self, path):
        board = normalize(path, self._cwd)
        if not self._host.stat(self._host_path(board))[0] & _S_IFDIR:
            raise OSError(_ENOTDIR)
        self._cwd = board

    def getcwd(self):
        return self._cwd
