"""Serve the dashboard from the running asyncio loop with Bokeh's server.

BokehJS and every asset ship inside the ``bokeh`` wheel and are served from this
server (no CDN), so the page works at a track with no internet. The server runs on
the same event loop as the links, so a button press reaches ``link.write_cue``
without crossing threads.

Who may drive it (docs/host.md, "Dashboard threat model"): every request, whatever
its route (the page, ``/ws``, ``/static``, ``/autoload.js``, ``/metadata``, the icon,
a 404), first passes :class:`Gate` (``_GuardedTornado.find_handler``):

1. its ``Host`` is one this server was started for: the loopback names, the bound
   address, and for a LAN bind this machine's addresses and name, plus
   ``--allow-host`` (a page on a rebinding domain sends its own name: refused);
2. an ``Origin``, when the browser sends one, is one of those hosts (the websocket's
   origin allow-list is the same list, never ``*``);
3. a request the browser marks as coming from another site (``Sec-Fetch-Site``) is
   refused unless it is a top-level navigation (no frames, scripts or fetches);
4. on a LAN bind, the request carries the server's token: ``?token=`` once (answered
   with an HttpOnly, SameSite=Strict cookie and a redirect to the URL without it),
   then the cookie.

Bokeh sessions are signed with a secret made at start, so a websocket can only
join a session whose page this server handed out after those checks, and every
button acts through its page's session: a Cue, Lap, rep or targets press comes from
a page that passed the gate. Every response says it may not be framed.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from bokeh.application import Application
from bokeh.application.handlers.function import FunctionHandler
from bokeh.document import Document
from bokeh.server.server import BaseServer
from bokeh.server.tornado import BokehTornado
from bokeh.server.util import bind_sockets
from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.log import access_log
from tornado.web import OutputTransform, RequestHandler

from stridecue.dashboard import DEFAULT_HOST, DEFAULT_PORT
from stridecue.dashboard.controls import Controls, Player
from stridecue.dashboard.page import Page
from stridecue.dashboard.state import LiveState
from stridecue.errors import ConfigError

if TYPE_CHECKING:
    from tornado.web import _HandlerDelegate

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_BINDS = ("0.0.0.0", "::", "")
# Headers on every response: the page may not be framed by any other page.
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Where the kernel would send a packet (UDP connect sends nothing): the address of
# each network this machine is on, default route first.
_ROUTE_PROBES = (
    (socket.AF_INET, "198.51.100.1"),
    (socket.AF_INET, "192.168.255.254"),
    (socket.AF_INET, "172.31.255.254"),
    (socket.AF_INET, "10.255.255.254"),
    (socket.AF_INET6, "2001:db8::1"),
)


def _check_free(host: str, port: int) -> None:
    """Raise OSError when ``host:port`` is taken (before binding every address of it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _in_url(address: str) -> str:
    """An address as it appears in a URL or a Host header (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def ip_version(address: str) -> int:
    """4 or 6."""
    return ipaddress.ip_address(address).version


def own_addresses() -> list[str]:
    """This machine's addresses on its networks (no loopback, no link-local), best first."""
    found: list[str] = []
    for family, probe in _ROUTE_PROBES:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                found.append(str(s.getsockname()[0]))
        except OSError:
            continue  # no route to that kind of network
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_STREAM)
        found += [str(info[4][0]) for info in infos]
    except OSError:
        pass
    usable: list[str] = []
    for a in found:
        try:
            ip = ipaddress.ip_address(a)
        except ValueError:
            continue  # a scoped (link-local) IPv6 address
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified) and a not in usable:
            usable.append(a)
    return usable


def host_entry(name: str, port: int) -> str:
    """``name`` as a Host header value with ``port`` (``--allow-host`` may add its own port)."""
    name = name.strip().lower()
    if not name or any(c in name for c in "/*?#@ \t"):
        raise ConfigError(
            f"--allow-host {name!r} is not a host name or address (no wildcards, no URL)"
        )
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        bare = ":" not in name
    else:
        bare = "]:" not in name
        name = _in_url(name.strip("[]"))
    return f"{name}:{port}" if bare else name


@dataclass(frozen=True)
class Verdict:
    """What the gate says of one request: go on, keep the token (redirect), or refuse."""

    status: int
    text: str = ""

    @property
    def allowed(self) -> bool:
        return self.status == 200


_PASS = Verdict(200)
_KEEP_TOKEN = Verdict(303)
_REFUSED_HOST = Verdict(403, "refused: this dashboard does not answer to that host name")
_REFUSED_SITE = Verdict(403, "refused: a request from another site")
_REFUSED_TOKEN = Verdict(
    403,
    "refused: this dashboard needs its token; open the address stridecue printed "
    "(ending in ?token=...) in a browser that keeps cookies",
)


@dataclass(frozen=True)
class Gate:
    """The checks every request passes before Bokeh sees it (see the module doc)."""

    hosts: frozenset[str]  # Host header values, lower case, "name:port"
    token: str | None  # None: no token (a loopback bind)
    cookie: str  # the cookie that keeps the token; cookies are per host, not per port

    @classmethod
    def for_bind(
        cls,
        host: str,
        port: int,
        *,
        token: str | None,
        addresses: Sequence[str] = (),
        allow_hosts: Sequence[str] = (),
    ) -> Gate:
        """The gate of a server bound to ``host:port``; ``addresses``: this machine's."""
        names = list(LOOPBACK_NAMES) if is_loopback(host) or host in WILDCARD_BINDS else []
        if host not in WILDCARD_BINDS:
            names.append(host)
        if not is_loopback(host) and socket.gethostname():
            names += [socket.gethostname(), f"{socket.gethostname()}.local"]
        names += [*addresses, *allow_hosts]
        hosts = {host_entry(n, port) for n in names}
        if port == 80:  # a browser leaves the default port out of Host and Origin
            hosts |= {h.removesuffix(":80") for h in hosts}
        return cls(frozenset(hosts), token, f"stridecue_token_{port}")

    @property
    def origins(self) -> list[str]:
        """The websocket origin allow-list (Bokeh's form: host:port)."""
        return sorted(self.hosts)

    def check(self, request: httputil.HTTPServerRequest) -> Verdict:
        headers = request.headers
        if headers.get("Host", "").lower() not in self.hosts:
            return _REFUSED_HOST
        origin = headers.get("Origin")
        if origin is not None:
            scheme, _, origin_host = origin.lower().partition("://")
            if scheme != "http" or origin_host not in self.hosts:
                return _REFUSED_SITE
        navigation = (
            headers.get("Sec-Fetch-Mode") == "navigate"
            and headers.get("Sec-Fetch-Dest") == "document"
        )
        if headers.get("Sec-Fetch-Site") in ("cross-site", "same-site") and not navigation:
            return _REFUSED_SITE
        if self.token is None:
            return _PASS
        if self._matches(request.query_arguments.get("token", [b""])[-1]):
            return _KEEP_TOKEN if request.method in ("GET", "HEAD") else _PASS
        cookie = request.cookies.get(self.cookie)
        if cookie is not None and self._matches(cookie.value.encode()):
            return _PASS
        return _REFUSED_TOKEN

    def _matches(self, given: bytes) -> bool:
        assert self.token is not None
        return bool(given) and hmac.compare_digest(given, self.token.encode())


class _Refused(RequestHandler):
    """A short plain-text refusal, whatever the method or route."""

    def initialize(self, verdict: Verdict) -> None:
        self.verdict = verdict

    def prepare(self) -> None:
        log.warning(
            "dashboard refused %s %s (Host %r, Origin %r): %s",
            self.request.method,
            self.request.path,
            self.request.headers.get("Host"),
            self.request.headers.get("Origin"),
            self.verdict.text,
        )
        self.set_status(self.verdict.status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(self.verdict.text + "\n")


class _KeepToken(RequestHandler):
    """``?token=`` is right: keep it in a cookie and load the same address without it."""

    def initialize(self, gate: Gate) -> None:
        self.gate = gate

    def prepare(self) -> None:
        assert self.gate.token is not None
        self.set_cookie(
            self.gate.cookie, self.gate.token, path="/", httponly=True, samesite="Strict"
        )
        rest = [(k, v) for k, v in parse_qsl(self.request.query, True) if k != "token"]
        path = "/" + self.request.path.lstrip("/")  # never "//elsewhere"
        self.redirect(path + (f"?{urlencode(rest)}" if rest else ""), status=303)


def _log_request(handler: RequestHandler) -> None:
    """Tornado's access log line without the query string, which may hold the token."""
    status = handler.get_status()
    request = handler.request
    access_log.log(
        logging.INFO if status < 400 else logging.WARNING,
        "%d %s %s (%s) %.2fms",
        status,
        request.method,
        request.path,
        request.remote_ip,
        1000.0 * request.request_time(),
    )


class _SecurityHeaders(OutputTransform):
    """Adds :data:`SECURITY_HEADERS` to every response this server writes."""

    def transform_first_chunk(
        self, status_code: int, headers: httputil.HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value
        return status_code, headers, chunk


class _GuardedTornado(BokehTornado):
    """Bokeh's tornado application with :class:`Gate` in front of every route."""

    def __init__(self, applications: dict[str, Application], *, gate: Gate, **kw: Any) -> None:
        super().__init__(applications, extra_websocket_origins=gate.origins, **kw)
        self.gate = gate
        self.transforms.append(_SecurityHeaders)

    def find_handler(self, request: httputil.HTTPServerRequest, **kwargs: Any) -> _HandlerDelegate:
        verdict = self.gate.check(request)
        if verdict is _KEEP_TOKEN:
            return self.get_handler_delegate(request, _KeepToken, {"gate": self.gate})
        if not verdict.allowed:
            return self.get_handler_delegate(request, _Refused, {"verdict": verdict})
        return super().find_handler(request, **kwargs)


class Dashboard:
    """The dashboard server: ``start()`` inside a running loop, then open ``url``.

    A bind that other machines can reach (not loopback) needs ``token``, made here
    and printed in ``url``; ``allow_hosts`` adds names a tablet may use to reach this
    machine (a LAN bind already takes its addresses and host name).
    """

    def __init__(
        self,
        state: LiveState,
        controls: Controls,
        *,
        player: Player | None = None,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        allow_hosts: Sequence[str] = (),
    ) -> None:
        if not 0 <= port <= 65535:
            raise ConfigError(
                f"--port {port} is out of range: allowed 0..65535 (0 picks a free one)"
            )
        for name in allow_hosts:
            host_entry(name, port)  # a bad --allow-host is an error now, not at start
        self.state = state
        self.controls = controls
        self.player = player
        self.host = host
        self.port = port
        self.allow_hosts = tuple(allow_hosts)
        self.token = None if is_loopback(host) else secrets.token_urlsafe(24)
        self.gate: Gate | None = None
        self.addresses: list[str] = []  # a bind on every address: this machine's, at start
        self.pages: list[Page] = []
        self._server: BaseServer | None = None
        self._http: HTTPServer | None = None

    def _make_page(self, doc: Document) -> None:
        page = Page(doc, self.state, self.controls, self.player)
        self.pages.append(page)
        doc.on_session_destroyed(lambda _ctx: self.pages.remove(page))

    def start(self) -> str:
        """Start serving on the current event loop; returns the page's URL."""
        try:
            if self.port != 0:
                _check_free(self.host, self.port)
            sockets, self.port = bind_sockets(self.host, self.port)
        except OSError as e:
            raise ConfigError(
                f"cannot serve the dashboard on {self.host}:{self.port} ({e.strerror}); "
                "pick another --port or stop what is using it"
            ) from e
        try:
            self.addresses = own_addresses() if self.host in WILDCARD_BINDS else []
            self.gate = Gate.for_bind(
                self.host,
                self.port,
                token=self.token,
                addresses=self.addresses,
                allow_hosts=self.allow_hosts,
            )
            app = _GuardedTornado(
                {"/": Application(FunctionHandler(self._make_page))},
                gate=self.gate,
                # a websocket joins only a session this server handed to a page it served
                sign_sessions=True,
                secret_key=secrets.token_bytes(32),
                # Bokeh copies request headers and cookies into the page's session token,
                # which the page's scripts can read: not the token cookie
                include_headers=[],
                include_cookies=[],
                log_function=_log_request,
                check_unused_sessions_milliseconds=2000,
                unused_session_lifetime_milliseconds=5000,
            )
            http = HTTPServer(app)
            http.add_sockets(sockets)
        except BaseException:
            for s in sockets:
                s.close()
            raise
        server = BaseServer(IOLoop.current(), app, http)
        server.start()
        self._server = server
        self._http = http
        log.info("dashboard at %s", self.url)
        return self.url

    def _url(self, host: str) -> str:
        query = f"?token={self.token}" if self.token else ""
        return f"http://{_in_url(host)}:{self.port}/{query}"

    @property
    def url(self) -> str:
        """The page's address on this machine, with its token when it needs one."""
        here = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}
        return self._url(here.get(self.host, self.host))

    @property
    def lan_urls(self) -> list[str]:
        """For a bind on every address: the page's addresses from other machines."""
        families = {"0.0.0.0": (4,), "::": (6,), "": (4, 6)}.get(self.host, ())
        return [self._url(a) for a in self.addresses if ip_version(a) in families]

    def banner(self) -> str:
        """What to print: the page's URL and, for a LAN bind, the ones a tablet opens."""
        lines = [f"dashboard: {self.url}"]
        lan = self.lan_urls
        if not lan and self.host in WILDCARD_BINDS:  # no network found: the coach fills it in
            lan = [self._url("THIS-LAPTOP'S-ADDRESS")]
        lines += [f"  from a tablet on this network: {u}" for u in lan]
        return "\n".join(lines)

    def stop(self) -> None:
        """Stop listening and close open pages' connections (on the next loop turn)."""
        if self._server is not None:
            self._server.unlisten()
            self._server.stop()
            self._server = None

    async def close(self) -> None:
        """Stop, then close the connections browsers keep open between requests."""
        self.stop()
        http, self._http = self._http, None
        if http is not None:
            try:
                await asyncio.wait_for(http.close_all_connections(), 2.0)
            except TimeoutError:
                log.warning("dashboard: a page's connection did not close within 2 s")
        # a page update under way writes to its websocket after this returns: let it finish
        # before the caller's loop ends (else its unawaited write is reported at exit)
        await asyncio.sleep(0.2)
