"""Serve the dashboard from the running asyncio loop with Bokeh's server.

BokehJS and every asset ship inside the ``bokeh`` wheel and are served from this
server (no CDN), so the page works at a track with no internet. The server runs on
the same event loop as the links, so a button press reaches ``link.write_cue``
without crossing threads.
"""

from __future__ import annotations

import logging
import socket

from bokeh.application import Application
from bokeh.application.handlers.function import FunctionHandler
from bokeh.document import Document
from bokeh.server.server import Server
from bokeh.server.util import bind_sockets
from tornado.ioloop import IOLoop

from stridecue.dashboard import DEFAULT_HOST, DEFAULT_PORT
from stridecue.dashboard.controls import Controls, Player
from stridecue.dashboard.page import Page
from stridecue.dashboard.state import LiveState
from stridecue.errors import ConfigError

log = logging.getLogger(__name__)


def _check_free(host: str, port: int) -> None:
    """Raise OSError when ``host:port`` is taken (before Bokeh binds, which leaks on failure)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))


class Dashboard:
    """The dashboard server: ``start()`` inside a running loop, then open ``url``."""

    def __init__(
        self,
        state: LiveState,
        controls: Controls,
        *,
        player: Player | None = None,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
    ) -> None:
        if not 0 <= port <= 65535:
            raise ConfigError(
                f"--port {port} is out of range: allowed 0..65535 (0 picks a free one)"
            )
        self.state = state
        self.controls = controls
        self.player = player
        self.host = host
        self.port = port
        self.pages: list[Page] = []
        self._server: Server | None = None

    def _make_page(self, doc: Document) -> None:
        page = Page(doc, self.state, self.controls, self.player)
        self.pages.append(page)
        doc.on_session_destroyed(lambda _ctx: self.pages.remove(page))

    def start(self) -> str:
        """Start serving on the current event loop; returns the page's URL."""
        local = self.host in ("127.0.0.1", "localhost", "::1")
        try:
            if self.port == 0:  # pick a free port now: the origin allow-list needs the number
                sockets, self.port = bind_sockets(self.host, 0)
                for s in sockets:
                    s.close()
            else:
                _check_free(self.host, self.port)
            origins = (
                ["*"] if not local else [f"{h}:{self.port}" for h in ("127.0.0.1", "localhost")]
            )
            server = Server(
                {"/": Application(FunctionHandler(self._make_page))},
                io_loop=IOLoop.current(),
                address=self.host,
                port=self.port,
                allow_websocket_origin=origins,
                check_unused_sessions_milliseconds=2000,
                unused_session_lifetime_milliseconds=5000,
            )
        except OSError as e:
            raise ConfigError(
                f"cannot serve the dashboard on {self.host}:{self.port} ({e.strerror}); "
                "pick another --port or stop what is using it"
            ) from e
        server.start()
        self._server = server
        self.port = server.port or self.port
        log.info("dashboard at %s", self.url)
        return self.url

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}/"

    def stop(self) -> None:
        """Stop listening and close open pages' connections (on the next loop turn)."""
        if self._server is not None:
            self._server.unlisten()
            self._server.stop()
            self._server = None
