"""The web server of `monitor web` (aiohttp, on the main thread's event loop): the page (`static/`, served by
the monitor itself: nothing from a CDN, it works offline), and one WebSocket per open page, which pushes
what changed (`Store.delta()`) at most every `PUSH_S`, and takes the page's requests:

    {"op": "view", "filter": TEXT, "findings_only": BOOL, "page": N}   which cards to show
    {"op": "select", "device": ID}                                   whose timeline to draw
    {"op": "command", "req": N, "device": ID, "led": "on"|"off"|"auto", "mode": "slow"|"fast", "get": true}

A command is sent as `python -m monitor send` sends it (`monitor.send.send()`, on a worker thread); the
page gets `{"type": "sent"}` at once and `{"type": "ack", "ok": ..., "text": ...}` with the round trip or
the node's error. A request the server cannot take (not JSON, an unknown op or field, an unknown device, a
device still waiting for its ack) gets `{"type": "error", "text": ...}` and changes nothing.

Who may connect: with a token (`PICO_WEB_TOKEN`), every request and the WebSocket must bring it (`?token=`
once, which sets a cookie; or `Authorization: Bearer`), else 401. Without one (only on loopback:
`monitor.web.run`), the `Host` header must name the loopback address, so another site's page cannot reach
the server through a DNS name pointing at 127.0.0.1; and the WebSocket's `Origin`, when a browser sends
one, must be the server itself, so another site's page cannot command the nodes through the user's browser.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from monitor import send
from monitor.live.commands import outcome, what
from monitor.mqtt import Security
from monitor.web.store import Store, Page

PUSH_S = 0.25
"""An open page gets an update at most this often (and at once after its own request)."""
REQUEST_MAX = 4096
"""A request from the page, at most (bytes)."""
COOKIE = "picostate_token"
STATIC = {"app.js": "application/javascript", "app.css": "text/css"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
VALUES = {"led": ("on", "off", "auto"), "mode": ("slow", "fast"), "get": (True,)}

Sender = Callable[..., send.Ack]


class BadRequest(Exception):
    """A request from the page that is not taken: its text goes back to the page."""


def _static(name: str) -> bytes:
    return resources.files("monitor.web").joinpath("static", name).read_bytes()


def parse_command(request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`(device, fields)` of a command request, or `BadRequest` saying what is wrong with it (pure)."""
    device = request.get("device")
    if not isinstance(device, str) or not device:
        raise BadRequest("a command needs a device")
    extra = sorted(set(request) - {"op", "req", "device", *VALUES})
    if extra:
        raise BadRequest(f"unknown field(s) in the command: {', '.join(extra)[:80]}")
    fields = {k: request[k] for k in VALUES if k in request}
    if not fields:
        raise BadRequest("nothing to send: give led, mode or get")
    for key, value in fields.items():
        if not any(value is v or (isinstance(value, str) and value == v) for v in VALUES[key]):
            raise BadRequest(f"{key} must be one of {', '.join(json.dumps(v) for v in VALUES[key])}, "
                             f"not {json.dumps(value)[:40]}")
    return device, fields


class Server:
    def __init__(self, store: Store, broker: str, *, security: Security | None = None, token: str | None = None,
                 hosts: tuple[str, ...] = (), timeout: float = send.DEFAULT_TIMEOUT, sender: Sender = send.send):
        self.store = store
        self.broker = broker
        self.security = security
        self.token = token
        self.hosts = hosts
        """Host names the `Host` header may name, without a token (empty: any)."""
        self.timeout = timeout
        self._send = sender
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sockets: set[web.WebSocketResponse] = set()
        self.app = web.Application(middlewares=[self._guard], client_max_size=REQUEST_MAX)
        self.app.router.add_get("/", self._index)
        self.app.router.add_get("/static/{name}", self._file)
        self.app.router.add_get("/ws", self._socket)
        self.app.on_shutdown.append(self._close_sockets)

    async def _close_sockets(self, app: web.Application) -> None:
        """The server stops: every open page is told (it says so, and tries again each second)."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"the monitor stopped")

    # --- who may connect ------------------------------------------------------------------------------------

    def _has_token(self, request: web.Request) -> bool:
        assert self.token is not None
        given = request.cookies.get(COOKIE) or request.query.get("token") or ""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            given = auth[7:]
        return hmac.compare_digest(given.encode(), self.token.encode())

    @web.middleware
    async def _guard(self, request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if self.token is not None:
            if not self._has_token(request):
                return web.Response(status=401, text="401: this dashboard needs its token: open it once as "
                                                     "http://HOST:PORT/?token=... (PICO_WEB_TOKEN)\n")
            if "token" in request.query and request.path == "/":
                # Once: the token goes into a cookie, and out of the address bar and the history.
                response = web.HTTPFound("/")
                response.set_cookie(COOKIE, request.query["token"], httponly=True, samesite="Strict", path="/")
                return response
        elif self.hosts and urlsplit(f"//{request.host}").hostname not in self.hosts:
            return web.Response(status=403, text="403: not this server's address\n")
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and urlsplit(origin).netloc != request.host:
            return web.Response(status=403, text="403: a page of another site\n")
        response = await handler(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    # --- the page -------------------------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(body=_static("index.html"), content_type="text/html", charset="utf-8")

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(body=_static(name), content_type=STATIC[name], charset="utf-8")

    # --- the WebSocket --------------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=REQUEST_MAX)
        await ws.prepare(request)
        self._sockets.add(ws)
        page = Page()
        asked = asyncio.Event()
        pusher = asyncio.create_task(self._push(ws, page, asked))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    break
                try:
                    await self._request(ws, page, msg.data)
                except BadRequest as exc:
                    await ws.send_json({"type": "error", "text": str(exc)})
                asked.set()
        finally:
            pusher.cancel()
            self._sockets.discard(ws)
        return ws

    async def _push(self, ws: web.WebSocketResponse, page: Page, asked: asyncio.Event) -> None:
        try:
            while not ws.closed:
                delta = self.store.delta(page)
                if delta is not None:
                    await ws.send_json({"type": "update", **delta})
                asked.clear()
                try:
                    await asyncio.wait_for(asked.wait(), PUSH_S)
                except asyncio.TimeoutError:
                    pass
                await asyncio.sleep(0.02)  # (a page asking fast still gets at most ~50 updates a second)
        except (ConnectionError, RuntimeError):
            pass  # the page went away

    async def _request(self, ws: web.WebSocketResponse, page: Page, text: str) -> None:
        try:
            request = json.loads(text)
        except (ValueError, RecursionError):
            raise BadRequest("not JSON") from None
        if not isinstance(request, dict):
            raise BadRequest("a request is a JSON object")
        op = request.get("op")
        if op == "view":
            wanted = request.get("filter", "")
            number = request.get("page", 0)
            if not isinstance(wanted, str) or len(wanted) > 100 or not isinstance(number, int) \
                    or isinstance(number, bool) or not isinstance(request.get("findings_only", False), bool):
                raise BadRequest("a view is a filter (text), findings_only (true or false) and a page number")
            page.filter, page.page = wanted, number
            page.findings_only = request.get("findings_only", False)
        elif op == "select":
            device = request.get("device")
            if not isinstance(device, str) or not self.store.known(device):
                raise BadRequest(f"no such device: {json.dumps(device)[:80]}")
            page.selected = device
        elif op == "command":
            await self._command(ws, request)
        else:
            raise BadRequest(f"unknown request: {json.dumps(op)[:40]}")

    async def _command(self, ws: web.WebSocketResponse, request: dict[str, Any]) -> None:
        device, fields = parse_command(request)
        if not self.store.known(device):
            raise BadRequest(f"no such device: {json.dumps(device)[:80]}")
        if device in self._busy:
            raise BadRequest(f"{device}: still waiting for the ack of its last command")
        req = request.get("req")
        self._busy.add(device)
        await ws.send_json({"type": "sent", "req": req, "device": device, "text": f"{what(fields)}: sent"})
        task = asyncio.create_task(self._answer(ws, req, device, fields))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, ws: web.WebSocketResponse, req: Any, device: str, fields: dict[str, Any]) -> None:
        try:
            result = await asyncio.to_thread(outcome, self._send, self.broker, device, fields,
                                             timeout=self.timeout, security=self.security)
        finally:
            self._busy.discard(device)
        if not ws.closed:
            try:
                await ws.send_json({"type": "ack", "req": req, "device": device, "ok": result.ok,
                                    "rtt_ms": result.rtt_ms, "error": result.error, "text": result.text()})
            except (ConnectionError, RuntimeError):
                pass

