"""Write the session report: one self-contained folder with index.html and its PNG figures."""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from pathlib import Path

from stridecue import relay
from stridecue.analysis.targets import Targets
from stridecue.errors import StrideCueError
from stridecue.protocol import StrideFlag
from stridecue.report import figures
from stridecue.report.relay import ZONE_M, find_exchange
from stridecue.sessiondata import RSC_NOTE, AthleteData, SessionData, file_stems
from stridecue.training import (
    clipped_count_words,
    clipped_words,
    doubtful_words,
    targets_plan_words,
)
from stridecue.words import event_line, mmss

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%}.note{color:#666;font-size:90%}h2{border-top:2px solid #ddd;padding-top:.5em}
.alert{color:#c0392b}
"""


DASH = "\u2013"
ARROW = " \u2192 "


def _e(x: object) -> str:
    return html.escape(str(x))


def _num(x: object, spec: str) -> str:
    return "\u2013" if x is None else format(float(str(x)), spec)


def _rep_table(a: AthleteData) -> str:
    rows = []
    for r in a.reps:
        s = r.summary
        fi = r.fatigue_index
        contact = s.get("mean_contact_time_s")
        rows.append(
            "<tr>"
            f"<td>rep {r.index + 1}</td><td>{r.start_s:.1f}</td>"
            f"<td>{_num(s.get('duration_s'), '.1f')}</td>"
            f"<td>{_num(s.get('distance_m'), '.0f')}</td><td>{s.get('strides', 0)}</td>"
            f"<td>{_num(s.get('mean_cadence_spm'), '.0f')}</td>"
            f"<td>{_num(s.get('mean_stride_length_m'), '.2f')}</td>"
            f"<td>{_num(None if contact is None else 1000 * contact, '.0f')}</td>"
            f"<td>{s.get('alerts', 0)}</td><td>{_num(s.get('form_held_m'), '.0f')}</td>"
            f"<td>{DASH if fi is None else f'{100 * fi:.1f} %'}</td>"
            f"<td>{' / '.join(f'{x:.1f}' for x in r.splits_s) or DASH}</td>"
            "</tr>"
        )  # fmt: skip
    if not rows:
        return '<p class="note">No rep detected (no sustained running in this session).</p>'
    notes = []
    for r in a.reps:
        s = r.summary
        words = (doubtful_words(s), clipped_count_words(s), clipped_words(s, a.name))
        if any(words):
            notes.append(f"rep {r.index + 1}: " + "; ".join(_e(w) for w in words if w))
    note = f'<p class="note">{"; ".join(notes)}.</p>' if notes else ""
    head = (
        "<tr><th>rep</th><th>start s</th><th>time s</th><th>distance m</th><th>strides</th>"
        "<th>cadence spm</th><th>stride m</th><th>contact ms</th><th>alerts</th>"
        "<th>form held m</th><th>fatigue index</th><th>100 m splits s</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>{note}"


_HALF_METRICS = (
    ("cadence_spm", "cadence", ".0f", "steps/min"),
    ("stride_length_m", "stride", ".2f", "m"),
    ("contact_time_s", "contact", ".3f", "s"),
    ("speed_mps", "speed", ".2f", "m/s"),
)


def _halves_table(a: AthleteData) -> str:
    """Each rep's last 200 m against its first: the numbers and the change in %."""
    rows = []
    for r in a.reps:
        first, last = r.summary.get("first_200"), r.summary.get("last_200")
        change = r.summary.get("last_vs_first_pct") or {}
        if not isinstance(first, dict) or not isinstance(last, dict):
            continue
        cells = "".join(
            f"<td>{_num(first.get(k), fmt)} \u2192 {_num(last.get(k), fmt)} {unit} "
            f"({_num(change.get(k), '+.1f')} %)</td>"
            for k, _, fmt, unit in _HALF_METRICS
        )
        rows.append(f"<tr><th>rep {r.index + 1}</th>{cells}</tr>")
    if not rows:
        return ""
    head = "".join(f"<th>{name}</th>" for _, name, _, _ in _HALF_METRICS)
    return (
        "<h3>Last 200 m against the first</h3><p class='note'>Where fatigue shows: the same "
        "stride and rhythm through the last 200 m is the aim (a shorter rep compares its "
        f"halves).</p><table><tr><th>rep</th>{head}</tr>{''.join(rows)}</table>"
    )


def _alert_list(a: AthleteData) -> str:
    """Each alert in the coach's words at mm:ss of the practice (no statistics)."""
    items = [f"<li><b>{mmss(e.t_s)}</b> {_e(event_line(e))}</li>" for e in a.alerts]
    cues = f"{len(a.cues)} buzz(es) sent" + (
        ": " + ", ".join(f"{mmss(t)} {_e(p)}" for t, p in a.cues[:12]) if a.cues else ""
    )
    body = f"<ul class='alert'>{''.join(items)}</ul>" if items else "<p>No alerts.</p>"
    return body + f"<p>{cues}.</p>"


def _athlete(a: AthleteData, out: Path, targets: Targets, slug: str) -> str:
    parts = [f"<h2 id='{slug}'>{_e(a.name)} <span class='note'>pod {_e(a.pod)}</span></h2>"]
    if not a.strides:
        return parts[0] + "<p class='note'>No strides recorded for this athlete.</p>"
    # the first stride from standing is a start, not running form: not in the range
    running = [s for s in a.strides if not s.flags & StrideFlag.FIRST] or a.strides
    cad = [s.cadence_spm for s in running]
    parts.append(
        f"<p>{len(a.strides)} strides, {a.distance_m:.0f} m, cadence "
        f"{min(cad):.0f}\u2013{max(cad):.0f} steps/min, {len(a.reps)} rep(s), "
        f"{len(a.alerts)} alert(s), battery {_num(a.battery_pct, '.0f')} %.</p>"
    )
    if a.rsc_only:
        parts.append(f"<p class='note'>{_e(RSC_NOTE)}.</p>")
    plan = targets_plan_words(targets)
    if plan:
        parts.append(f"<p class='sc-plan'>Ran to: {_e(plan)}.</p>")
    fig = figures.session_figure(a, _fresh(out / f"{slug}-session.png"))
    parts.append(f"<img src='{fig.name}' alt='cadence and stride length of {_e(a.name)}'>")
    parts.append("<h3>Reps</h3>" + _rep_table(a))
    parts.append(
        "<p class='note'>Fatigue index: the last full 100 m split over the best one, minus 1 "
        "(0 % = held pace; 10 % = the last 100 m took 10 % longer than the best). "
        "Form held: metres run in the rep before the first alert.</p>"
    )
    parts.append(_halves_table(a))
    halves = figures.halves_figure(a, _fresh(out / f"{slug}-halves.png"))
    if halves is not None:
        parts.append(f"<img src='{halves.name}' alt='last 200 m against the first'>")
    splits = figures.splits_figure(a, targets.split_plan_s(), _fresh(out / f"{slug}-splits.png"))
    if splits is not None:
        parts.append(f"<h3>100 m splits</h3><img src='{splits.name}' alt='100 m splits'>")
    parts.append("<h3>Alerts and cues</h3>" + _alert_list(a))
    return "\n".join(parts)


def _relay_practice(data: SessionData, out: Path) -> str:
    """A session recorded with a relay setup: every exchange, measured (docs/relay.md)."""
    try:
        history = relay.stored_setups(data.meta["settings"], data.host_s)
        names = {n for h in history for n in h.setup.team}
        strides = {n: data.athlete(n).strides for n in names}
        attempts = relay.history_attempts(strides, history)
    except StrideCueError as e:
        return f"<h2 id='relay'>Relay exchanges</h2><p>Not measured: {_e(str(e))}.</p>"
    parts = [
        "<h2 id='relay'>Relay exchanges</h2><p class='note'>Positions in metres from the "
        "start of the zone; the outgoing runner waits at 0, the incoming one comes from "
        "the leg before; the check mark is dotted."
        + (
            " The setup changed during the practice: each attempt is measured with the "
            "setup in force when the incoming runner set off."
            if len(history) > 1
            else ""
        )
        + "</p>"
    ]
    for k, at in enumerate(attempts):
        png = figures.exchange_figure(at, _fresh(out / f"exchange-{k + 1}.png"))
        words = "".join(
            f"<li>{_e(line)}</li>" for line in relay.describe(at.exchange, at.incoming, at.outgoing)
        )
        parts.append(
            f"<h3>Exchange {at.leg + 1}: {_e(at.incoming)} \u2192 {_e(at.outgoing)}</h3>"
            f"<p class='note'>Measured with {_e(relay.setup_words(at))}.</p>"
            f"<ul>{words}</ul><img src='{png.name}' alt='exchange {k + 1}'>"
        )
    if not attempts:
        parts.append("<p>No exchange found: no runner set off during another's run.</p>")
    return "\n".join(parts)


def _relay(data: SessionData, order: Sequence[str], out: Path) -> str:
    if isinstance(data.meta.get("settings", {}).get("relay"), dict):
        return _relay_practice(data, out)
    if len(order) < 2:
        return ""
    legs = [data.athlete(k) for k in order]
    parts = [f"<h2 id='relay'>Relay exchanges</h2><p class='note'>Order: "
             f"{ARROW.join(_e(a.name) for a in legs)}. The shaded band is the outgoing "
             f"runner's first {ZONE_M:.0f} m.</p>"]  # fmt: skip
    for k, (inc, outg) in enumerate(itertools.pairwise(legs)):
        x = find_exchange(inc, outg)
        if x is None:
            parts.append(f"<p>{_e(inc.name)} \u2192 {_e(outg.name)}: no exchange found.</p>")
            continue
        png = figures.relay_figure(
            inc, outg, x.t_start_s, x.t_zone_end_s, _fresh(out / f"relay-{k + 1}.png")
        )
        parts.append(
            f"<p>{_e(inc.name)} \u2192 {_e(outg.name)}: outgoing starts at {x.t_start_s:.1f} s, "
            f"zone run in {x.t_zone_end_s - x.t_start_s:.1f} s; at the end of it "
            f"{_e(inc.name)} ran {_num(x.incoming_speed_mps, '.1f')} m/s and "
            f"{_e(outg.name)} {_num(x.outgoing_speed_mps, '.1f')} m/s.</p>"
            f"<img src='{png.name}' alt='relay exchange {k + 1}'>"
        )  # fmt: skip
    return "\n".join(parts)


def write(
    data: SessionData,
    out: Path,
    *,
    relay: Sequence[str] = (),
    targets: Targets | None = None,
) -> Path:
    """Write ``out/index.html`` and its figures; returns the HTML path.

    The split plan drawn for each athlete is from ``targets`` when given, else from
    the athlete's targets the analysis used (see :func:`stridecue.sessiondata.load`).
    """
    out.mkdir(parents=True, exist_ok=True)
    slugs = file_stems(data.athletes)  # unique: two athletes of one name keep their figures
    toc = " \u00b7 ".join(f"<a href='#{slugs[a.pod]}'>{_e(a.name)}</a>" for a in data.athletes)
    problems = "".join(f"<li>{_e(p)}</li>" for p in data.problems)
    body = [
        f"<h1>StrideCue session {_e(data.name)}</h1>",
        f"<p>{data.start:%Y-%m-%d %H:%M} UTC, {mmss(data.duration_s)} of practice, "
        f"{len(data.athletes)} athlete(s): {toc}</p>",
        f"<p class='note'>Recording problems:</p><ul>{problems}</ul>" if problems else "",
        f"<p class='note'>Reps, alerts and splits {_e(data.analysis)}.</p>",
        *(
            _athlete(a, out, a.targets if targets is None else targets, slugs[a.pod])
            for a in data.athletes
        ),
        _relay(data, relay, out),
        "<p class='note'>Made by <code>stridecue report</code>. Reps, alerts and splits come "
        "from the same streaming analyzer that ran live.</p>",
    ]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>StrideCue {_e(data.name)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )
    path = _fresh(out / "index.html")
    path.write_text(page, encoding="utf-8")
    return path


def _fresh(path: Path) -> Path:
    """``path``, with a symbolic link found there removed: a report never writes through one."""
    if path.is_symlink():
        path.unlink()
    return path
