"""One browser page (a Bokeh document): header, replay bar, and a tile per athlete.

Each page subscribes to the :class:`LiveState`. Changes are collected and sent in
one batch at most every FLUSH_INTERVAL_MS (at once when the page has been quiet),
so a stride reaches the browser within tens of milliseconds and a burst (8 athletes
at 16x) costs one message and one redraw.
"""

from __future__ import annotations

import html
import time
from collections import defaultdict

from bokeh.document import Document
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, CustomJS, CustomJSTickFormatter
from bokeh.models.widgets import Button, Div, Select, Slider

from stridecue.dashboard.controls import SPEEDS, Controls, Player
from stridecue.dashboard.relaypanel import RelayPanel
from stridecue.dashboard.state import WINDOW_STRIDES, Alert, Change, LiveState, StridePoint
from stridecue.dashboard.tile import MMSS_JS, Tile
from stridecue.words import mmss

# At most one batch per page this often: a stride waits at most this long, and the
# browser re-renders at most ~20 times a second however many athletes run.
FLUSH_INTERVAL_MS = 40

# Records, in the page, how long each batch took from the host to the browser.
_LATENCY_JS = """
const sent = probe.data.sent_ms[0];
if (sent > 0) {
  window.__sc_latency_ms = window.__sc_latency_ms || [];
  window.__sc_latency_ms.push(Date.now() - sent);
}
"""


class Page:
    """The models of one open page and its subscription to the state."""

    def __init__(
        self, doc: Document, state: LiveState, controls: Controls, player: Player | None
    ) -> None:
        self.doc = doc
        self.state = state
        self.controls = controls
        self.player = player
        self.tiles: dict[str, Tile] = {}
        self._pending: list[Change] = []
        self._scheduled = False
        self._last_flush = 0.0
        self.title = Div(text="", css_classes=["sc-title"], sizing_mode="stretch_width")
        # Oldest host arrival time (ms) in the last batch; a JS callback turns it into latency.
        self.probe = ColumnDataSource(data={"sent_ms": [0.0]}, name="latency-probe")
        self.probe.js_on_change("data", CustomJS(args={"probe": self.probe}, code=_LATENCY_JS))
        self.grid = row(
            children=[],
            sizing_mode="stretch_width",
            styles={"flex-wrap": "wrap", "gap": "8px"},
            name="tiles",
        )
        bar = self._replay_bar() if player is not None else []
        # a live practice's relay panel, below the tiles (they stay in view on a laptop)
        self.relay = RelayPanel(state.relay) if state.relay is not None else None
        doc.add_root(
            column(
                row(self.title, *bar, sizing_mode="stretch_width"),
                self.grid,
                *([self.relay.layout] if self.relay is not None else []),
                sizing_mode="stretch_width",
            )
        )
        doc.add_root(self.probe)
        doc.title = state.title
        for view in state.athletes.values():
            self._add_tile(view.pod)
        self._draw_title()
        self._unsubscribe = state.subscribe(self._on_change)
        doc.on_session_destroyed(lambda _ctx: self._unsubscribe())

    # --- replay bar ---
    def _replay_bar(self) -> list[object]:
        player = self.player
        assert player is not None
        self.play_button = Button(label="Pause" if player.playing else "Play", width=70)
        self.speed_select = Select(
            value=f"{player.speed:g}x",
            options=list[str | None]([f"{s:g}x" for s in SPEEDS]),
            width=70,
        )
        self.seek = Slider(
            start=0,
            end=max(player.duration_s, 1.0),
            value=0,
            step=0.5,
            title=f"replay of {mmss(player.duration_s)}",
            format=CustomJSTickFormatter(code=MMSS_JS),
            width=420,
            name="seek",
        )

        def toggle() -> None:
            if player.playing:
                player.pause()
            else:
                player.play()
            self.play_button.label = "Pause" if player.playing else "Play"

        self.play_button.on_click(toggle)
        self.speed_select.on_change(
            "value", lambda _a, _o, new: player.set_speed(float(str(new).rstrip("x")))
        )
        self.seek.on_change("value_throttled", lambda _a, _o, new: player.seek(float(new)))
        return [self.play_button, self.speed_select, self.seek]

    def _draw_title(self) -> None:
        s = self.state
        clock = s.clock_s
        mode = (
            s.mode
            if self.player is None
            else (f"replay {self.player.speed:g}x" + ("" if self.player.playing else " (paused)"))
        )
        text = (
            f'<b style="font-size:18px">{html.escape(s.title)}</b> &nbsp; '
            f'<span class="sc-clock">{int(clock // 60):02d}:{int(clock % 60):02d}</span> '
            f'&nbsp; <span class="sc-mode">{html.escape(mode)}</span> &nbsp; '
            f"{len(s.athletes)} athletes"
        )
        if self.title.text != text:
            self.title.text = text
        if self.player is not None:
            label = "Pause" if self.player.playing else "Play"
            if self.play_button.label != label:
                self.play_button.label = label
        if self.player is not None and abs(self.seek.value - clock) >= 0.5:
            self.seek.value = round(min(clock, self.seek.end), 1)

    def _add_tile(self, pod: str) -> None:
        view = self.state.athletes[pod]
        tile = Tile(view, self.controls, WINDOW_STRIDES)
        tile.reload(view)
        self.tiles[pod] = tile
        self.grid.children = [*self.grid.children, tile.layout]

    # --- state changes ---
    def _on_change(self, change: Change) -> None:
        self._pending.append(change)
        if not self._scheduled:
            self._scheduled = True
            wait_ms = FLUSH_INTERVAL_MS - (time.monotonic() - self._last_flush) * 1000.0
            if wait_ms <= 0:
                self.doc.add_next_tick_callback(self._flush)
            else:
                self.doc.add_timeout_callback(self._flush, int(wait_ms) + 1)

    def _flush(self) -> None:
        self._scheduled = False
        self._last_flush = time.monotonic()
        changes, self._pending = self._pending, []
        strides: dict[str, list[StridePoint]] = defaultdict(list)
        alerts: dict[str, list[Alert]] = defaultdict(list)
        touched: set[str] = set()
        reset = False
        for ch in changes:
            if ch.what == "reset":
                reset = True
                strides.clear()
                alerts.clear()
            elif ch.what == "athlete" and ch.pod not in self.tiles:
                self._add_tile(ch.pod)
                if self.relay is not None:
                    self.relay.runners_changed()
            elif ch.what == "stride" and ch.stride is not None:
                strides[ch.pod].append(ch.stride)
            elif ch.what == "alert" and ch.alert is not None:
                alerts[ch.pod].append(ch.alert)
            if ch.pod:
                touched.add(ch.pod)
        if reset:
            for pod, tile in self.tiles.items():
                tile.reload(self.state.athletes[pod])
        oldest = min((p.arrived_ms for pts in strides.values() for p in pts), default=0.0)
        for pod, points in strides.items():
            if pod in self.tiles and not reset:
                self.tiles[pod].push(points)
        for pod, items in alerts.items():
            if pod in self.tiles:
                self.tiles[pod].push_alerts(items, self.state.athletes[pod])
        for pod in touched:
            if pod in self.tiles and not reset:
                self.tiles[pod].refresh(self.state.athletes[pod])
        if self.relay is not None:
            self.relay.refresh()  # only when the relay board changed
        self._draw_title()
        if oldest > 0:
            self.probe.data = {"sent_ms": [oldest]}
