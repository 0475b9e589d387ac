"""The dashboard's gate without a browser: Host, Origin, fetch metadata, token, headers.

Every route Bokeh serves (the page, BokehJS, autoload.js, metadata, the icon, the
websocket, a 404) is asked with a foreign Host, a foreign Origin and, on a LAN bind,
without the token: each is refused with a short plain body, and every answer says it
may not be framed. The browser tests (tests/browser/test_security_browser.py) do
the same attacks from real Chromium pages.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator

import pytest
from bokeh.util.token import generate_jwt_token, generate_session_id
from stridecue.cli import main
from stridecue.dashboard import Dashboard, LiveState
from stridecue.dashboard.server import SECURITY_HEADERS, Gate, host_entry
from stridecue.errors import ConfigError
from test_dashboard import ReplayPlayerStub
from test_dashboard_data import write_session
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

EVIL = "evil.test"


@pytest.fixture
async def loopback() -> AsyncIterator[Dashboard]:
    dash = Dashboard(LiveState("sec"), ReplayPlayerStub(), port=0)
    dash.start()
    yield dash
    await dash.close()


@pytest.fixture
async def lan() -> AsyncIterator[Dashboard]:
    dash = Dashboard(LiveState("sec"), ReplayPlayerStub(), host="0.0.0.0", port=0)
    dash.start()
    yield dash
    await dash.close()


async def _get(url: str, **headers: str) -> HTTPResponse:
    client = AsyncHTTPClient()
    return await client.fetch(
        HTTPRequest(url, headers=headers, follow_redirects=False), raise_error=False
    )


def _base(dash: Dashboard) -> str:
    return f"http://127.0.0.1:{dash.port}"


async def _routes(dash: Dashboard, **headers: str) -> dict[str, str]:
    """Every kind of route the server has, with a real BokehJS path from the page."""
    page = (await _get(_base(dash) + "/", **headers)).body.decode()
    (script,) = re.findall(r'src="(/static/js/bokeh\.min\.js[^"]*)"', page)
    return {
        "page": "/",
        "bokehjs": script,
        "autoload": "/autoload.js?bokeh-autoload-element=x&bokeh-absolute-url=http://127.0.0.1",
        "metadata": "/metadata",
        "icon": "/favicon.ico",
        "websocket": "/ws",
        "404": "/nothing-here",
    }


def _refused(r: HTTPResponse, why: str) -> None:
    body = r.body.decode()
    assert r.code == 403, (r.code, body[:200])
    assert r.headers["Content-Type"].startswith("text/plain")
    assert body.startswith("refused: ") and why in body and len(body) < 200
    assert "Bokeh" not in body and "<" not in body


def _framing_forbidden(r: HTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, (r.effective_url, name, dict(r.headers))
    assert r.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert r.headers["X-Frame-Options"] == "DENY"


async def test_a_foreign_host_is_refused_on_every_route(loopback: Dashboard) -> None:
    port = loopback.port
    routes = await _routes(loopback)
    for what, path in routes.items():
        good = await _get(_base(loopback) + path)
        # the page, BokehJS, autoload, metadata, icon; /ws without an upgrade; a 404
        expected = {"websocket": 400, "404": 404}.get(what, 200)
        assert good.code == expected, (what, good.code)
        _framing_forbidden(good)
        for host in (f"{EVIL}:{port}", f"{EVIL}", f"127.0.0.1:{port + 1}", "", "127.0.0.1"):
            bad = await _get(_base(loopback) + path, Host=host)
            _refused(bad, "host name")
            _framing_forbidden(bad)
    for host in (f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert (await _get(_base(loopback) + "/", Host=host)).code == 200, host
    assert loopback.token is None and "token" not in loopback.url
    assert loopback.gate is not None
    assert loopback.gate.hosts == {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}


def _fetch_meta(site: str, dest: str, mode: str) -> dict[str, str]:
    """The fetch metadata headers Chromium sends."""
    return {"Sec-Fetch-Site": site, "Sec-Fetch-Dest": dest, "Sec-Fetch-Mode": mode}


async def test_requests_from_another_site_are_refused(loopback: Dashboard) -> None:
    base = _base(loopback)
    routes = await _routes(loopback)
    port = loopback.port
    for origin in (f"http://{EVIL}:{port}", "null", f"http://127.0.0.1:{port + 1}"):
        for path in routes.values():
            _refused(await _get(base + path, Origin=origin), "another site")
    assert (await _get(base + "/", Origin=base)).code == 200
    # fetch metadata: another site may link to the page, not load its parts or frame it
    for dest, mode in (("script", "no-cors"), ("iframe", "navigate"), ("empty", "cors")):
        for site in ("cross-site", "same-site"):
            r = await _get(base + routes["bokehjs"], **_fetch_meta(site, dest, mode))
            _refused(r, "another site")
    link = _fetch_meta("cross-site", "document", "navigate")
    assert (await _get(base + "/", **link)).code == 200
    same = _fetch_meta("same-origin", "script", "no-cors")
    assert (await _get(base + routes["bokehjs"], **same)).code == 200


async def _ws(dash: Dashboard, token: str, **headers: str) -> WebSocketClientConnection:
    request = HTTPRequest(f"ws://127.0.0.1:{dash.port}/ws", headers=headers)
    return await websocket_connect(request, subprotocols=["bokeh", token])


def _session_token(page: str) -> str:
    (token,) = re.findall(r'"token":\s*"([^"]+)"', page)
    return token


async def test_the_websocket_joins_only_sessions_of_served_pages(loopback: Dashboard) -> None:
    base = _base(loopback)
    good = _session_token((await _get(base + "/")).body.decode())
    assert len(loopback.pages) == 1  # serving the page made its session
    # a foreign Host or Origin: the upgrade is refused before Bokeh sees it
    for headers in ({"Host": f"{EVIL}:{loopback.port}"}, {"Origin": f"http://{EVIL}"}):
        with pytest.raises(HTTPClientError) as refused:
            await _ws(loopback, good, **headers)
        assert refused.value.code == 403
    # a session id the server did not hand out: Bokeh closes it, no page is made
    forged = generate_jwt_token(generate_session_id(signed=False), signed=False)
    conn = await _ws(loopback, forged)
    assert await asyncio.wait_for(conn.read_message(), 5) is None
    conn.close()
    assert len(loopback.pages) == 1
    # the page's own session: Bokeh answers (ACK) and joins it
    conn = await _ws(loopback, good, Origin=base)
    assert await asyncio.wait_for(conn.read_message(), 5) is not None
    assert len(loopback.pages) == 1
    conn.close()


async def test_a_lan_bind_needs_the_token_then_keeps_it_in_a_cookie(
    lan: Dashboard, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    base = _base(lan)
    token = lan.token
    assert token is not None and len(token) >= 32
    assert lan.url == f"{base}/?token={token}"
    assert lan.gate is not None and "*" not in "".join(lan.gate.origins)
    assert set(lan.gate.origins) == lan.gate.hosts
    for path in ("/", "/static/js/bokeh.min.js", "/metadata", "/ws", "/favicon.ico"):
        _refused(await _get(base + path), "needs its token")
        _refused(await _get(f"{base}{path}?token=not-{token}"), "needs its token")
        _refused(await _get(base + path, Cookie=f"{lan.gate.cookie}=x{token}"), "token")
    kept = await _get(f"{base}/?token={token}&x=1")
    assert kept.code == 303 and kept.headers["Location"] == "/?x=1"
    _framing_forbidden(kept)
    cookie = kept.headers["Set-Cookie"]
    assert cookie.startswith(f"{lan.gate.cookie}={token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    with_cookie = {"Cookie": f"{lan.gate.cookie}={token}"}
    page = await _get(base + "/", **with_cookie)
    assert page.code == 200 and "<title>sec</title>" in page.body.decode()
    _framing_forbidden(page)
    assert token not in page.body.decode()  # nor in the page's Bokeh session token
    assert (await _get(base + "/static/js/bokeh.min.js", **with_cookie)).code == 200
    # the cookie does not make a foreign Host or Origin good
    _refused(await _get(base + "/", Host=f"{EVIL}:{lan.port}", **with_cookie), "host name")
    _refused(await _get(base + "/", Origin=f"http://{EVIL}", **with_cookie), "another site")
    # the websocket: refused without the cookie, the page's session with it
    session = _session_token(page.body.decode())
    with pytest.raises(HTTPClientError) as refused:
        await _ws(lan, session)
    assert refused.value.code == 403
    conn = await _ws(lan, session, **with_cookie)
    assert await asyncio.wait_for(conn.read_message(), 5) is not None
    conn.close()
    assert "303 GET / " in caplog.text and token not in caplog.text  # the access log


async def test_a_lan_bind_answers_to_this_machines_addresses(lan: Dashboard) -> None:
    assert lan.gate is not None
    assert f"{socket.gethostname().lower()}:{lan.port}" in lan.gate.hosts
    assert f"127.0.0.1:{lan.port}" in lan.gate.hosts
    for address in lan.addresses:
        assert host_entry(address, lan.port) in lan.gate.hosts
    if not lan.lan_urls:
        pytest.skip("this machine has no network address besides loopback")
    url = lan.lan_urls[0]
    assert url.endswith(f":{lan.port}/?token={lan.token}")
    r = await _get(url.replace(f"?token={lan.token}", ""), Cookie=f"{lan.gate.cookie}={lan.token}")
    assert r.code == 200


def test_the_hosts_a_bind_answers_to() -> None:
    def hosts(bind: str, port: int = 8765, **kw: list[str]) -> frozenset[str]:
        return Gate.for_bind(bind, port, token=None, **kw).hosts

    loop = {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"}
    assert hosts("127.0.0.1") == loop
    assert hosts("127.0.0.2") == loop | {"127.0.0.2:8765"}
    assert hosts("::1") == loop
    name = socket.gethostname().lower()
    assert hosts("192.168.1.20") == {"192.168.1.20:8765", f"{name}:8765", f"{name}.local:8765"}
    wildcard = hosts("0.0.0.0", addresses=["192.168.1.20", "fd00::2"])
    assert {"192.168.1.20:8765", "[fd00::2]:8765", f"{name}:8765"} | loop <= wildcard
    extra = hosts("0.0.0.0", allow_hosts=["Coach.lan", "10.0.0.7:9000", "fd00::9", "[fd00::8]"])
    assert {"coach.lan:8765", "10.0.0.7:9000", "[fd00::9]:8765", "[fd00::8]:8765"} <= extra
    assert {"localhost", "localhost:80"} <= hosts("127.0.0.1", 80)
    assert Dashboard(LiveState(), ReplayPlayerStub(), host="10.0.0.7").token is not None
    assert Dashboard(LiveState(), ReplayPlayerStub(), host="localhost").token is None
    for bad in ("*", "*.lan", "http://coach.lan", "coach.lan/x", ""):
        with pytest.raises(ConfigError, match="is not a host name or address"):
            host_entry(bad, 8765)


def test_the_command_prints_the_token_and_checks_allow_host(tmp_path, capsys) -> None:
    session = write_session(tmp_path, athletes=1, reps=1)
    argv = ["dashboard", "--replay", str(session), "--port", "0", "--duration", "0.3"]
    assert main([*argv, "--host", "0.0.0.0", "--allow-host", "coach.lan"]) == 0
    out = capsys.readouterr().out
    (url,) = re.findall(r"dashboard: (http://127\.0\.0\.1:\d+/\?token=[\w-]{32,})\n", out)
    assert "from a tablet on this network: http://" in out
    token = url.split("=", 1)[1]
    assert all(line.endswith(f"?token={token}") for line in out.splitlines() if "http" in line)
    assert main(argv) == 0  # loopback: no token
    assert re.search(r"dashboard: http://127\.0\.0\.1:\d+/\n", capsys.readouterr().out)
    assert main([*argv, "--allow-host", "*.lan"]) == 2
    assert "--allow-host '*.lan' is not a host name or address" in capsys.readouterr().err
