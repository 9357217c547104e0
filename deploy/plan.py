"""What a deploy changes on the board: a pure comparison of the Build with what the board's probe
reported. The firmware copy that boots is never written: changes go into the other copy, which is
then switched to (see layout.py). When the copy that boots is already the build, nothing is
copied and nothing is switched (a second deploy copies nothing).
"""

from dataclasses import dataclass, field

from deploy import layout

DEFAULT_BLOCK = 4096   # littlefs on the rp2: every file takes at least one 4 KiB block
SPARE_BLOCKS = 4       # folders and littlefs's own bookkeeping
UMQTT_BLOCKS = 3       # umqtt/simple.mpy (about 3 KB) and its folders


@dataclass
class Plan:
    active: object          # the copy booting now: 'a', 'b' or None
    slot: str               # the copy that boots after the deploy
    copy: list = field(default_factory=list)      # (local path, board path, size)
    remove: list = field(default_factory=list)    # board paths, stale files in `slot`
    renames: list = field(default_factory=list)   # (board path.new, board path) for / files
    expect: list = field(default_factory=list)    # (board path, sha256) checked before switching
    dirs: list = field(default_factory=list)      # folders `copy` needs, parents first
    install_umqtt: bool = False
    need_bytes: int = 0
    free_bytes: object = None

    @property
    def switch(self):
        return self.slot != self.active

    @property
    def changes_files(self):
        return bool(self.copy or self.remove or self.renames or self.switch)

    @property
    def flash_full(self):
        return self.free_bytes is not None and self.need_bytes > self.free_bytes


def _blocks(size, block):
    return max(1, -(-size // block)) * block


def make_plan(build, info, files):
    """The Plan for `build` (a build.Build) on a board that reported `info` and `files`
    ({board path: (size, sha256)}), as onboard.parse_probe returns them."""
    active = info.get("active") if info.get("active") in layout.SLOTS else None
    want = {rel: sha for rel, (_, _, sha) in build.slot.items()}

    def held(slot):
        prefix = layout.slot_dir(slot) + "/"
        return {p[len(prefix):]: v for p, v in files.items() if p.startswith(prefix)}

    if active and {rel: sha for rel, (_, sha) in held(active).items()} == want:
        plan = Plan(active, active)
    else:
        slot = layout.other_slot(active)
        plan = Plan(active, slot)
        there = held(slot)
        base = layout.slot_dir(slot)
        for rel, (local, size, sha) in build.slot.items():
            if there.get(rel, (None, None))[1] != sha:
                plan.copy.append((local, f"{base}/{rel}", size))
            plan.expect.append((f"{base}/{rel}", sha))
        plan.remove = [f"{base}/{rel}" for rel in sorted(there) if rel not in want]
        plan.dirs = [layout.FIRMWARE_DIR, base]
        plan.dirs += sorted({f"{base}/{rel.rpartition('/')[0]}" for rel in want if "/" in rel},
                            key=lambda d: (d.count("/"), d))
    for name, (local, size, sha) in build.root.items():
        final = "/" + name
        if files.get(final, (None, None))[1] != sha:
            new = final + layout.NEW_SUFFIX
            plan.copy.append((local, new, size))
            plan.expect.append((new, sha))
            plan.renames.append((new, final))
    plan.install_umqtt = not info.get("umqtt")
    block = info.get("block") or DEFAULT_BLOCK
    if info.get("free") is not None:
        freed_blocks = 0
        if plan.switch:
            there = held(plan.slot)
            freed_blocks = sum(_blocks(size, block) for rel, (size, _) in there.items() if rel not in want)
        plan.free_bytes = info["free"] + freed_blocks
        plan.need_bytes = sum(_blocks(size, block) for _, _, size in plan.copy)
        if plan.copy:
            plan.need_bytes += SPARE_BLOCKS * block
        if plan.install_umqtt:
            plan.need_bytes += UMQTT_BLOCKS * block
    return plan


def files_text(n):
    return f"{n} file" if n == 1 else f"{n} files"


def describe(plan, each_file=False):
    """What the plan does, one line each, for the person; `each_file` lists every copy and
    removal (--dry-run)."""
    lines = []
    if plan.install_umqtt:
        lines.append(f"install umqtt.simple into {layout.MIP_TARGET} with mip")
    slot_copies = [c for c in plan.copy if c[1].startswith(layout.FIRMWARE_DIR + "/")]
    if plan.switch:
        unchanged = len(plan.expect) - len(slot_copies) - len(plan.renames)
        lines.append(f"write firmware copy {plan.slot} ({layout.slot_dir(plan.slot)}): "
                     f"{files_text(len(slot_copies))}, {sum(c[2] for c in slot_copies) / 1024:.1f} KiB"
                     + (f", {unchanged} there already" if unchanged else "")
                     + (f"; remove {files_text(len(plan.remove))} no longer part of it" if plan.remove else ""))
        if each_file:
            lines += [f"  copy {path} ({size} bytes)" for _, path, size in slot_copies]
            lines += [f"  remove {path}" for path in plan.remove]
    for new, final in plan.renames:
        lines.append(f"replace {final}")
    if plan.switch:
        lines.append(f"boot copy {plan.slot} from now on (was {plan.active or 'nothing deployed'})")
    if not plan.changes_files:
        lines.append(f"the firmware on the board (copy {plan.slot}) is up to date: nothing to copy")
    return lines
