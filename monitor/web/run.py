"""`python -m monitor web`: where it may listen and with what token (`token_for()`), and the process's life
(`serve()`): the web server on the main thread's event loop, the live session (receiver and checker, as for
`record` and `watch`) polled on a thread of its own (`monitor.web.feed`), both ended by Ctrl-C, SIGTERM,
`--for`, or the session's failure.

The token comes from the environment (`PICO_WEB_TOKEN`), never from a flag: a command line is visible to
every user of the machine (`ps`). On 127.0.0.1 (the default) none is needed; on any other address the
server refuses to start without one, since whoever reaches the page can command the nodes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable

from aiohttp import web

from broker.addresses import is_loopback
from monitor.errors import UsageError
from monitor.live.session import Session
from monitor.web.feed import Feed
from monitor.web.server import Server

TOKEN_ENV = "PICO_WEB_TOKEN"
TOKEN_MIN = 16
"""A token shorter than this is refused (it could be guessed)."""
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def token_for(host: str, environ: dict[str, str] | os._Environ[str] = os.environ) -> str | None:
    """The token the server asks for (None: none), or `UsageError` when `host` needs one and there is none."""
    token = environ.get(TOKEN_ENV) or None
    if token is not None and len(token) < TOKEN_MIN:
        raise UsageError(f"{TOKEN_ENV} is too short: at least {TOKEN_MIN} characters "
                         "(python -c 'import secrets; print(secrets.token_urlsafe())')")
    if token is None and not is_loopback(host):
        raise UsageError(f"--host {host}: anyone who reaches it could command the nodes: set {TOKEN_ENV} "
                         f"(at least {TOKEN_MIN} characters) to ask for a token, or leave --host out (127.0.0.1)")
    return token


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(session: Session, feed: Feed, host: str, port: int, broker: str, *, token: str | None,
          say: Callable[[str], None]) -> None:
    """Serve the dashboard of `session` (made with `feed`'s callbacks: `Feed.on_record`, ...) on
    `host:port` until Ctrl-C, SIGTERM, or the session's end. `UsageError` when the address cannot be
    listened on (checked before the session starts)."""
    asyncio.run(_serve(session, feed, host, port, broker, token, say))


async def _serve(session: Session, feed: Feed, host: str, port: int, broker: str, token: str | None,
                 say: Callable[[str], None]) -> None:
    hosts = () if token is not None else tuple({*LOOPBACK_NAMES, host})
    server = Server(feed.store, broker, security=session.security, token=token, hosts=hosts)
    runner = web.AppRunner(server.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    thread: threading.Thread | None = None
    try:
        await asyncio.to_thread(session.start)

        def follow() -> None:
            try:
                feed.run(session)
            finally:
                loop.call_soon_threadsafe(stop.set)

        thread = threading.Thread(target=follow, name="session", daemon=True)
        thread.start()
        where = _url(host, port)
        say(f"dashboard at {where}" + (f" (open it once as {where}?token=<{TOKEN_ENV}>)" if token else "")
            + f"; recording {session.path}; Ctrl-C to stop")
        await stop.wait()
    finally:
        session.stop()
        if thread is not None:
            await asyncio.to_thread(thread.join)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await runner.cleanup()

