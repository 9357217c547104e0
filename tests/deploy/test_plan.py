"""What a deploy would change, from a build and what the board reported (pure)."""

from pathlib import Path

from deploy import plan
from deploy.build import Build

H = {c: c * 64 for c in "0123456789abcdef"}   # distinct fake sha256 values


def a_build(**slot):
    """A Build whose slot holds `slot` ({rel with '.' for '/'...}) plus fixed root files."""
    b = Build(Path("/tmp/x"))
    for rel, sha in (slot or {"lib/app.mpy": H["1"], "lib/link.mpy": H["2"], "config.py": H["3"]}).items():
        b.slot[rel] = (Path("/tmp/x/slot") / rel, 1000, sha)
    b.root = {"boot.py": (Path("/tmp/x/root/boot.py"), 300, H["8"]),
              "main.py": (Path("/tmp/x/root/main.py"), 100, H["9"])}
    return b


def board(active=None, files=None, free=1 << 20, umqtt=True):
    return {"active": active, "free": free, "block": 4096, "umqtt": umqtt}, dict(files or {})


def deployed(slot, build, extra=()):
    """The probe's files for a board where `slot` holds `build` and / its root files."""
    files = {f"/firmware/{slot}/{rel}": (size, sha) for rel, (_, size, sha) in build.slot.items()}
    files.update({f"/{name}": (size, sha) for name, (_, size, sha) in build.root.items()})
    files.update(extra)
    return files


def test_empty_board_gets_everything_in_copy_a():
    b = a_build()
    p = plan.make_plan(b, *board(umqtt=False))
    assert p.slot == "a" and p.switch and p.install_umqtt
    assert sorted(remote for _, remote, _ in p.copy) == [
        "/boot.py.new", "/firmware/a/config.py", "/firmware/a/lib/app.mpy",
        "/firmware/a/lib/link.mpy", "/main.py.new"]
    assert p.renames == [("/boot.py.new", "/boot.py"), ("/main.py.new", "/main.py")]
    assert p.dirs == ["/firmware", "/firmware/a", "/firmware/a/lib"]
    assert ("/firmware/a/lib/app.mpy", H["1"]) in p.expect and ("/main.py.new", H["9"]) in p.expect


def test_a_second_deploy_with_nothing_changed_copies_nothing():
    b = a_build()
    p = plan.make_plan(b, *board("a", deployed("a", b)))
    assert not p.changes_files and not p.switch and p.copy == [] and p.remove == []
    assert any("up to date" in line for line in plan.describe(p))


def test_a_change_goes_to_the_other_copy_with_only_what_differs_there():
    old = a_build()
    new = a_build(**{"lib/app.mpy": H["4"], "lib/link.mpy": H["2"], "config.py": H["3"]})
    # copy b holds an older firmware whose link.mpy is the same as the new one's
    files = deployed("a", old, {"/firmware/b/lib/link.mpy": (1000, H["2"]),
                                "/firmware/b/lib/app.mpy": (1000, H["5"]),
                                "/firmware/b/lib/gone.mpy": (1000, H["6"]),
                                "/firmware/b/lib/app.py": (5000, H["7"])})
    p = plan.make_plan(new, *board("a", files))
    assert p.slot == "b" and p.active == "a" and p.switch
    assert sorted(remote for _, remote, _ in p.copy) == ["/firmware/b/config.py", "/firmware/b/lib/app.mpy"]
    # a stale source would shadow the .mpy beside it: removed, as is a module no longer there
    assert p.remove == ["/firmware/b/lib/app.py", "/firmware/b/lib/gone.mpy"]
    # every file of the copy is checked before it boots, not only the copied ones
    assert sorted(path for path, _ in p.expect) == [
        "/firmware/b/config.py", "/firmware/b/lib/app.mpy", "/firmware/b/lib/link.mpy"]
    assert p.renames == []


def test_a_stale_file_in_the_active_copy_makes_it_not_up_to_date():
    b = a_build()
    p = plan.make_plan(b, *board("a", deployed("a", b, {"/firmware/a/lib/app.py": (10, H["7"])})))
    assert p.switch and p.slot == "b"


def test_an_unknown_pointer_counts_as_nothing_deployed():
    b = a_build()
    p = plan.make_plan(b, *board("../etc", deployed("a", b)))
    assert p.active is None and p.slot == "a"


def test_the_flash_full_is_found_before_anything_is_written():
    b = a_build()
    p = plan.make_plan(b, *board(free=8 * 4096))
    # 5 files of at least one 4 KiB block each, plus the spare blocks
    assert p.need_bytes == (5 + plan.SPARE_BLOCKS) * 4096 and p.flash_full
    assert not plan.make_plan(b, *board(free=64 * 4096)).flash_full


def test_removed_files_count_as_free_space():
    b = a_build()
    stale = {f"/firmware/a/lib/old{i}.mpy": (4096, H["6"]) for i in range(10)}
    p = plan.make_plan(b, *board(free=3 * 4096, files=stale))
    assert p.free_bytes == 13 * 4096 and not p.flash_full


def test_dry_run_words():
    b = a_build()
    lines = plan.describe(plan.make_plan(b, *board(umqtt=False)))
    assert lines[0] == "install umqtt.simple into /lib with mip"
    assert any(line.startswith("write firmware copy a") for line in lines)
    assert "replace /main.py" in lines and "boot copy a from now on (was nothing deployed)" in lines
