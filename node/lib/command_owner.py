"""The command owner: the one task that validates commands, applies them and answers each one."""

from command import CommandError, parse
from log import log


async def run_command_owner(shared, max_bytes):
    inbox = shared.inbox
    while True:
        await inbox.ready.wait()
        inbox.ready.clear()
        raw = inbox.take()
        while raw is not None:
            try:
                cmd_id, fields = parse(raw, max_bytes)
            except CommandError as e:
                log("cmd", "rejected %r: %s" % (e.cmd_id, e.reason))
                await shared.reject_command(e.cmd_id, e.reason)
            else:
                ver = await shared.apply_command(cmd_id, fields)
                log("cmd", "%s applied %r, ver %d" % (cmd_id, fields, ver))
            raw = inbox.take()
