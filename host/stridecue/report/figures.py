"""The report's PNG figures, drawn with matplotlib's object API (no pyplot, no display)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from stridecue.protocol import StrideFlag
from stridecue.relay import Attempt
from stridecue.relay import Path as RunPath
from stridecue.sessiondata import AthleteData, Rep
from stridecue.words import mmss

CADENCE = "#1f77b4"
LENGTH = "#c2378f"
ALERT_STYLE = {
    "rhythm_loss": ("#d62728", "rhythm lost"),
    "stride_shortening": ("#ff7f0e", "strides shortening"),
    "recovered": ("#2ca02c", "recovered"),
}
DPI = 110


def _shade_reps(ax: Axes, reps: list[Rep], label: bool) -> None:
    for r in reps:
        ax.axvspan(r.start_s, r.end_s, color="#2ca02c", alpha=0.10, lw=0)
        if label:
            mid = (r.start_s + r.end_s) / 2
            ax.text(mid, 0.98, f"rep {r.index + 1}", transform=ax.get_xaxis_transform(),
                    ha="center", va="top", fontsize=8, color="#2a7a2a")  # fmt: skip


def session_figure(a: AthleteData, path: Path) -> Path:
    """Cadence and stride length over the session, reps shaded, alerts and cues marked."""
    fig = Figure(figsize=(10, 5.2), dpi=DPI, layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    # the first stride from standing is a start, not running form: not plotted
    run = [s for s in a.strides if not s.flags & StrideFlag.FIRST] or a.strides
    t = [s.t_s for s in run]
    ax1.plot(t, [s.cadence_spm for s in run], color=CADENCE, lw=1.2, label="cadence")
    ax2.plot(t, [s.stride_length_m for s in run], color=LENGTH, lw=1.2, label="stride length")
    ax1.set_ylabel("cadence (steps/min)")
    ax2.set_ylabel("stride length (m)")
    ax2.set_xlabel("practice time (mm:ss)")
    ax2.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: mmss(x)))
    for ax, first in ((ax1, True), (ax2, False)):
        _shade_reps(ax, a.reps, label=first)
        ax.grid(alpha=0.3)
        seen: set[str] = set()
        for e in a.events:
            style = ALERT_STYLE.get(e.kind)
            if style is None:
                continue
            color, name = style
            ax.axvline(
                e.t_s, color=color, lw=1.2, ls="--" if e.kind == "recovered" else "-",
                label=name if first and name not in seen else None,
            )  # fmt: skip
            seen.add(name)
    if a.cues:
        ymax = max((s.cadence_spm for s in run), default=200.0)
        ax1.scatter(
            [c[0] for c in a.cues], [ymax * 1.02] * len(a.cues), marker="v", color="#9467bd",
            s=40, zorder=3, label="cue sent",
        )  # fmt: skip
    ax1.legend(loc="lower left", fontsize=8, ncol=5, framealpha=0.85)
    fig.suptitle(f"{a.name}: cadence and stride length (green: reps)", fontsize=11)
    fig.savefig(path)
    return path


def splits_figure(a: AthleteData, plan_s: tuple[float, ...], path: Path) -> Path | None:
    """100 m split times of every rep side by side; the plan as a dashed line when set."""
    reps = [r for r in a.reps if r.splits_s]
    if not reps:
        return None
    fig = Figure(figsize=(10, 3.4), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    n = max(len(r.splits_s) for r in reps)
    width = 0.8 / len(reps)
    for k, r in enumerate(reps):
        xs = [i + (k - (len(reps) - 1) / 2) * width for i in range(len(r.splits_s))]
        bars = ax.bar(xs, r.splits_s, width=width * 0.95, label=f"rep {r.index + 1}")
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    if plan_s:
        xs = list(range(min(n, len(plan_s))))
        ax.plot(xs, plan_s[: len(xs)], "k--", marker="_", ms=20, label="plan")
    ax.set_xticks(range(n), [f"{100 * (i + 1)} m" for i in range(n)])
    # the bars start just below the fastest split: 22.8 s and 22.3 s must look different
    times = [x for r in reps for x in r.splits_s] + list(plan_s[:n])
    lo, hi = min(times), max(times)
    ax.set_ylim(max(0.0, lo - 0.15 * (hi - lo) - 0.5), hi + 0.1 * (hi - lo) + 0.3)
    ax.set_ylabel("split time (s)")
    ax.set_title(f"{a.name}: 100 m splits", fontsize=11)
    ax.legend(fontsize=8, ncol=6, loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.savefig(path)
    return path


def halves_figure(a: AthleteData, path: Path) -> Path | None:
    """Per rep, the change from the first 200 m to the last: cadence, stride, speed (%)."""
    reps = [r for r in a.reps if isinstance(r.summary.get("last_vs_first_pct"), dict)]
    if not reps:
        return None
    names = (
        ("cadence_spm", "cadence"),
        ("stride_length_m", "stride length"),
        ("speed_mps", "speed"),
    )
    fig = Figure(figsize=(10, 2.8), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(reps)
    for k, r in enumerate(reps):
        change = r.summary["last_vs_first_pct"]
        ys = [float(change.get(key) or 0.0) for key, _ in names]
        xs = [i + (k - (len(reps) - 1) / 2) * width for i in range(len(names))]
        bars = ax.bar(xs, ys, width=width * 0.95, label=f"rep {r.index + 1}")
        ax.bar_label(bars, fmt="%+.1f", fontsize=7)
    ax.axhline(0.0, color="#555555", lw=0.8)
    ax.set_xticks(range(len(names)), [label for _, label in names])
    ax.set_ylabel("last 200 m vs first (%)")
    ax.set_title(f"{a.name}: held through the last 200 m?", fontsize=11)
    ax.legend(fontsize=8, ncol=6, loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.savefig(path)
    return path


def relay_figure(
    incoming: AthleteData, outgoing: AthleteData, t_x: float, zone_end_s: float, path: Path
) -> Path:
    """Both runners' speeds through the exchange on one time axis."""
    fig = Figure(figsize=(10, 3.6), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    lo, hi = t_x - 6.0, max(zone_end_s, t_x) + 6.0
    for a, color in ((incoming, "#1f77b4"), (outgoing, "#d62728")):
        pts = [(s.t_s, s.speed_mps) for s in a.strides if lo <= s.t_s <= hi]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "-o", ms=3, color=color, label=a.name)
    ax.axvspan(t_x, zone_end_s, color="#ffbf00", alpha=0.2, lw=0, label="outgoing's first 30 m")
    ax.axvline(t_x, color="k", lw=1, ls=":")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("session time (s)")
    ax.set_ylabel("speed (m/s, per stride)")
    ax.set_title(f"exchange {incoming.name} \u2192 {outgoing.name}", fontsize=11)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(path)
    return path


def exchange_figure(at: Attempt, path: Path) -> Path:
    """Both runners' positions (from the zone's start) and speeds through an exchange."""
    ex = at.exchange
    inc = RunPath(at.incoming_strides, -ex.approach_m)
    out = RunPath(at.outgoing_strides, 0.0)
    lo = ex.start_t_s - 1.0
    hi = min(inc.t1, out.t1) if ex.handoff_t_s is None else ex.handoff_t_s + 2.0
    ts = [lo + k * (hi - lo) / 200 for k in range(201)]
    fig = Figure(figsize=(10, 4.6), dpi=DPI, layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    for run, name, color in ((inc, at.incoming, CADENCE), (out, at.outgoing, "#d62728")):
        ax1.plot(ts, [run.at(t, extend=True) for t in ts], color=color, lw=1.6, label=name)
        ax2.plot(ts, [run.speed(t, extend=True) for t in ts], color=color, lw=1.6, label=name)
    ax1.axhspan(0.0, ex.zone_m, color="#2ca02c", alpha=0.10, lw=0, label=f"{ex.zone_m:g} m zone")
    ax1.axhline(-ex.mark_m, color="#555555", lw=1, ls=":", label="check mark")
    if ex.handoff_t_s is not None:
        for ax in (ax1, ax2):
            ax.axvline(ex.handoff_t_s, color="#9467bd", lw=1.2, label="hand-off")
    ax1.set_ylabel("metres from the zone")
    ax2.set_ylabel("speed (m/s)")
    ax2.set_xlabel("practice time (mm:ss)")
    ax2.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: mmss(x)))
    ax1.legend(fontsize=8, ncol=5, loc="upper left")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.suptitle(f"Exchange {at.leg + 1}: {at.incoming} to {at.outgoing}", fontsize=11)
    fig.savefig(path)
    return path
