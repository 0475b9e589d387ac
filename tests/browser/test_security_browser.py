"""Attacks on the dashboard from real web pages, in Debian's headless Chromium.

A live practice on a simulated pod (``SimPod``: its ``cues`` list holds every cue
that reached the pod's firmware) is served, and Chromium pages try to drive it:

1. DNS rebinding: a Chromium that resolves ``evil.test`` to 127.0.0.1 loads
   ``http://evil.test:PORT/``, and the attacker's own page on that name (served
   first by the attacker, then "rebound") reads ``/`` and opens ``/ws`` as same-origin.
2. A page on another origin (a server on another loopback port, and on a rebinding
   name) frames the dashboard, fetches it, loads ``autoload.js`` and opens ``/ws``.
3. A LAN bind (0.0.0.0): without the token the page is refused; with the printed URL
   the page loads, keeps the token in an HttpOnly cookie, reloads, and its Cue
   button reaches the pod. Even a same-origin frame of the page is not drawn.

Nothing in 1 or 2 may make a Bokeh session (``dash.pages``) or a cue.
"""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from browserkit import CHROMIUM_ARGS, LoopThread, chromium_path, wait_until
from simpod import SimPod
from stridecue.dashboard import Dashboard, LiveState, PracticeControls
from stridecue.dashboard.feed import Feed
from stridecue.practice import Practice

pytestmark = pytest.mark.slow

EVIL = "evil.test"

# The attacker's page on the rebinding name: by the time its script runs the name
# points at this machine, so "/" and "/ws" are the dashboard's, same-origin.
REBOUND_ATTACK = """<!doctype html><title>cute cats</title><script>
window.attack = (async () => {
  const out = {};
  const r = await fetch("/");
  out.page = r.status;
  const m = (await r.text()).match(/"token":"([^"]+)"/);
  out.session = Boolean(m);
  out.ws = await new Promise(done => {
    const ws = new WebSocket(`ws://${location.host}/ws`, ["bokeh", m ? m[1] : "none"]);
    ws.onopen = () => done("open");
    ws.onerror = () => done("refused");
  });
  return out;
})();
</script>"""

# The attacker's page on another origin: frame, read, script-include, websocket.
CROSS_ORIGIN_ATTACK = """<!doctype html><title>cute cats</title>
<iframe id="dash" src="DASH/" width="900" height="600"></iframe><script>
window.attack = (async () => {
  const out = {};
  try { out.fetch = (await fetch("DASH/")).status; } catch (e) { out.fetch = "blocked"; }
  try { await fetch("DASH/", {mode: "no-cors"}); out.nocors = "sent"; }
  catch (e) { out.nocors = "blocked"; }
  out.autoload = await new Promise(done => {
    const s = document.createElement("script");
    s.src = "DASH/autoload.js?bokeh-autoload-element=x&bokeh-absolute-url=DASH";
    s.onload = () => done("loaded");
    s.onerror = () => done("error");
    document.body.appendChild(s);
  });
  out.ws = await new Promise(done => {
    const ws = new WebSocket("WS/ws", ["bokeh", "none"]);
    ws.onopen = () => done("open");
    ws.onerror = () => done("refused");
  });
  return out;
})();
</script>"""


# Chromium's own Local/Private Network Access checks refuse a rebound page's fetch
# of a loopback address; other browsers (and the reported attack) get through, so
# they are off here: what is tested is the dashboard's own defence.
NO_BROWSER_NETWORK_CHECKS = (
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
    "PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults"
)


@pytest.fixture(scope="module")
def rebinding_browser(browser: Any) -> Iterator[Any]:
    """A second Chromium whose resolver maps evil.test to this machine (as a rebinding
    DNS server would), launched like conftest's."""
    b = browser.browser_type.launch(
        executable_path=chromium_path(),
        args=[
            *CHROMIUM_ARGS,
            f"--host-resolver-rules=MAP {EVIL} 127.0.0.1",
            NO_BROWSER_NETWORK_CHECKS,
        ],
    )
    yield b
    b.close()


@contextmanager
def _live(loop_thread: LoopThread, host: str = "127.0.0.1") -> Iterator[tuple[Dashboard, SimPod]]:
    """A live practice (no automatic cues: a cue on the pod is a Cue button press)."""
    pod = SimPod("ada")
    state = LiveState("security")

    async def start() -> tuple[Dashboard, Practice, asyncio.Future[None]]:
        practice = Practice([pod], roster={"ada": "Ada"}, cues=False)
        practice.subscribe(Feed(state))
        await practice.connect()
        run = asyncio.ensure_future(practice.run())
        dash = Dashboard(state, PracticeControls(practice), host=host, port=0)
        dash.start()
        return dash, practice, run

    async def stop(practice: Practice, run: asyncio.Future[None]) -> None:
        practice.stop()
        await run

    dash, practice, run = loop_thread.run(start())
    try:
        yield dash, pod
    finally:
        loop_thread.run(dash.close())
        loop_thread.run(stop(practice, run))


@contextmanager
def _attacker_site(html: str) -> Iterator[int]:
    """A web server on another loopback port serving the attacker's page; its port."""
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _nothing_reached(dash: Dashboard, pod: SimPod, loop_thread: LoopThread) -> None:
    """No Bokeh session was made for the attacker and no cue reached the pod."""
    time.sleep(1.0)  # a cue the attack might have sent has time to arrive
    assert loop_thread.call(lambda: len(dash.pages)) == 0
    assert loop_thread.call(lambda: list(pod.cues)) == []
    assert not pod.pwm.ever_on


def test_dns_rebinding_gets_no_page_no_websocket_no_cue(
    rebinding_browser: Any, loop_thread: LoopThread, artifacts: Path
) -> None:
    with _live(loop_thread) as (dash, pod):
        page = rebinding_browser.new_page()
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        evil = f"http://{EVIL}:{dash.port}"
        try:
            # the dashboard under the attacker's name: refused, no tile, no websocket
            r = page.goto(evil + "/")
            assert r is not None and r.status == 403
            assert "refused" in page.inner_text("body")
            assert page.locator(".sc-tile").count() == 0 and sockets == []
            page.screenshot(path=str(artifacts / "dashboard-rebinding-refused.png"))
            # the attacker's page, first from the attacker's server, then rebound
            page.route(
                evil + "/attack",
                lambda route: route.fulfill(content_type="text/html", body=REBOUND_ATTACK),
            )
            page.goto(evil + "/attack")
            result = page.evaluate("() => window.attack")
            assert result == {"page": 403, "session": False, "ws": "refused"}
            _nothing_reached(dash, pod, loop_thread)
            # the same Chromium at the dashboard's own address: the page works
            page.goto(f"http://127.0.0.1:{dash.port}/")
            page.wait_for_selector(".sc-tile", timeout=20_000)
            assert loop_thread.call(lambda: list(pod.cues)) == []
        finally:
            page.close()


@pytest.mark.parametrize("attacker", ["127.0.0.1", EVIL], ids=["same-site", "cross-site"])
def test_another_origin_cannot_frame_read_or_drive_it(
    rebinding_browser: Any, loop_thread: LoopThread, attacker: str
) -> None:
    with _live(loop_thread) as (dash, pod):
        html = CROSS_ORIGIN_ATTACK.replace("DASH", f"http://127.0.0.1:{dash.port}")
        html = html.replace("WS", f"ws://127.0.0.1:{dash.port}")
        with _attacker_site(html) as port:
            page = rebinding_browser.new_page()
            answers: list[int] = []
            page.on(
                "response",
                lambda r: answers.append(r.status) if f":{dash.port}/" in r.url else None,
            )
            try:
                page.goto(f"http://{attacker}:{port}/")
                result = page.evaluate("() => window.attack")
                assert result == {
                    "fetch": "blocked",
                    "nocors": "sent",  # sent, but refused and unreadable
                    "autoload": "error",
                    "ws": "refused",
                }
                # the frame shows no dashboard: the server refused it (and forbids framing)
                frame = page.frame_locator("#dash")
                assert frame.locator(".sc-tile").count() == 0
                assert answers and set(answers) == {403}, answers
                _nothing_reached(dash, pod, loop_thread)
            finally:
                page.close()


def test_a_lan_bind_needs_the_token_and_then_the_cue_works(
    browser: Any, loop_thread: LoopThread, artifacts: Path
) -> None:
    with _live(loop_thread, host="0.0.0.0") as (dash, pod):
        assert dash.token is not None and dash.url.endswith(f"/?token={dash.token}")
        bare = f"http://127.0.0.1:{dash.port}/"
        stranger = browser.new_context()
        coach = browser.new_context(viewport={"width": 1200, "height": 900})
        try:
            # without the token (a stranger on the LAN): refused
            page = stranger.new_page()
            r = page.goto(bare)
            assert r is not None and r.status == 403
            assert "needs its token" in page.inner_text("body")
            assert page.locator(".sc-tile").count() == 0
            _nothing_reached(dash, pod, loop_thread)
            # the printed URL: the token goes into a cookie scripts cannot read
            tablet = coach.new_page()
            tablet.goto(dash.url)
            tablet.wait_for_selector(".sc-tile", timeout=20_000)
            assert tablet.url == bare and dash.token not in tablet.content()
            assert tablet.evaluate("document.cookie") == ""
            (cookie,) = coach.cookies()
            assert cookie["value"] == dash.token and cookie["httpOnly"]
            assert cookie["sameSite"] == "Strict"
            tablet.reload()  # reloads keep working: the cookie
            tablet.wait_for_selector(".sc-tile", timeout=20_000)
            # the coach's Cue reaches the pod
            tablet.locator(".sc-tile button", has_text="Cue").click()
            wait_until(lambda: len(loop_thread.call(lambda: list(pod.cues))) == 1, 10, "the cue")
            assert pod.pwm.ever_on
            tile = tablet.locator(".sc-tile").first
            wait_until(
                lambda: any(
                    "coach's buzz sent" in t for t in tile.locator(".sc-alert").all_inner_texts()
                ),
                5,
                "the cue on the tile",
            )
            tablet.screenshot(path=str(artifacts / "dashboard-lan-token.png"))
            # even the page's own origin may not frame it (frame-ancestors 'none', DENY)
            tablet.evaluate(
                "() => { const f = document.createElement('iframe'); f.id = 'self';"
                " f.src = '/'; document.body.appendChild(f); }"
            )
            time.sleep(1.5)
            assert tablet.frame_locator("#self").locator(".sc-title").count() == 0
            # the stranger still has no way in, and only the coach's one cue arrived
            assert page.goto(bare).status == 403  # type: ignore[union-attr]
            assert len(loop_thread.call(lambda: list(pod.cues))) == 1
        finally:
            stranger.close()
            coach.close()
