"""Recompute the StrideCue pod's power budget and battery life.

Reads the current of every component in every state (``power_budget.csv``) and
how long a practice spends in each state (``power_scenarios.csv``), and prints
the tables that ``power.md`` shows. ``--check power.md`` fails when the document
is out of date; ``--write power.md`` regenerates its tables in place.

    python3 hardware/power_budget.py                  # print the tables
    python3 hardware/power_budget.py --capacity-mah 600
    python3 hardware/power_budget.py --standalone     # only the idle motion watch's cost
    python3 hardware/power_budget.py --check hardware/power.md

The idle motion watch (a pod that starts measuring by itself when it is worn
and moving, docs/firmware.md) is the advertising state's rows whose component
starts with ``motion watch``; its cost is set against the IMU powered down.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATES = ("advertising", "streaming", "buzzing", "idle", "deep_idle")
BASES = ("datasheet", "vendor", "measured", "computed", "estimate")
COLUMNS = ("board", "state", "component", "current_ma", "basis", "source")
SCENARIO_COLUMNS = ("scenario", "state", "minutes")
BEGIN = "<!-- power_budget.py:begin -->"
END = "<!-- power_budget.py:end -->"
# The BOM's LiPo (hardware/BOM.csv) and the share of it a pod can use: the cell
# is rated to 3.0 V but the 3.3 V regulator drops out near 3.5 V, and a cold
# track and an aged cell take the rest (estimate).
CAPACITY_MAH = 400.0
USABLE_FRACTION = 0.8
PRACTICE = "practice_2h"
WATCH = "motion watch"  # component prefix of the idle motion check's rows
REST_STOP_S = 60  # a pod's own session ends this long after its last stride (the default)


class BudgetError(ValueError):
    """A table that cannot be used; the message names the file, line and field."""


@dataclass(frozen=True)
class Row:
    board: str
    state: str
    component: str
    current_ma: float
    basis: str
    source: str


@dataclass(frozen=True)
class Battery:
    capacity_mah: float
    usable_fraction: float

    @property
    def usable_mah(self) -> float:
        return self.capacity_mah * self.usable_fraction


def _records(path: Path, columns: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != tuple(columns):
            raise BudgetError(f"{path}: header must be {','.join(columns)}")
        return [(reader.line_num, rec) for rec in reader]


def _number(path: Path, line: int, field: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BudgetError(f"{path}:{line}: {field} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise BudgetError(f"{path}:{line}: {field} must be a finite number >= 0, got {text}")
    return value


def _state(path: Path, line: int, state: str) -> str:
    if state not in STATES:
        raise BudgetError(f"{path}:{line}: state {state!r} is not one of {', '.join(STATES)}")
    return state


def load_rows(path: Path) -> list[Row]:
    rows = []
    for line, rec in _records(path, COLUMNS):
        if rec["basis"] not in BASES:
            raise BudgetError(f"{path}:{line}: basis must be one of {', '.join(BASES)}")
        if not rec["source"].strip():
            raise BudgetError(f"{path}:{line}: every number needs a source")
        current = _number(path, line, "current_ma", rec["current_ma"])
        state = _state(path, line, rec["state"])
        rows.append(
            Row(rec["board"], state, rec["component"], current, rec["basis"], rec["source"])
        )
    if not rows:
        raise BudgetError(f"{path}: no rows")
    return rows


def load_scenarios(path: Path) -> dict[str, dict[str, float]]:
    scenarios: dict[str, dict[str, float]] = {}
    for line, rec in _records(path, SCENARIO_COLUMNS):
        minutes = _number(path, line, "minutes", rec["minutes"])
        scenarios.setdefault(rec["scenario"], {})[_state(path, line, rec["state"])] = minutes
    return scenarios


def boards(rows: Sequence[Row]) -> list[str]:
    return sorted({r.board for r in rows})


def state_totals(rows: Sequence[Row]) -> dict[tuple[str, str], float]:
    """Total battery current (mA) of each (board, state); every board needs every state."""
    totals: dict[tuple[str, str], float] = {}
    for r in rows:
        totals[(r.board, r.state)] = totals.get((r.board, r.state), 0.0) + r.current_ma
    for board in boards(rows):
        missing = [s for s in STATES if (board, s) not in totals]
        if missing:
            raise BudgetError(f"board {board} has no rows for state(s) {', '.join(missing)}")
    return totals


def scenario_mah(totals: dict[tuple[str, str], float], board: str, mix: dict[str, float]) -> float:
    return sum(totals[(board, state)] * minutes / 60.0 for state, minutes in mix.items())


@dataclass(frozen=True)
class Life:
    practice_mah: float
    practice_pct: float
    practices_per_charge: float
    streaming_h: float
    standby_days: float
    standby_after_practice_days: float


def life(
    totals: dict[tuple[str, str], float], board: str, mix: dict[str, float], bat: Battery
) -> Life:
    if bat.usable_mah <= 0:
        raise BudgetError("usable battery capacity must be > 0 mAh")
    used = scenario_mah(totals, board, mix)
    deep = totals[(board, "deep_idle")]
    return Life(
        practice_mah=used,
        practice_pct=100.0 * used / bat.usable_mah,
        practices_per_charge=bat.usable_mah / used,
        streaming_h=bat.usable_mah / totals[(board, "streaming")],
        standby_days=bat.usable_mah / deep / 24.0,
        standby_after_practice_days=max(bat.usable_mah - used, 0.0) / deep / 24.0,
    )


@dataclass(frozen=True)
class Watch:
    """What the idle motion watch costs on one board."""

    watch_ma: float  # the watch's rows (advertising state)
    share_pct: float  # of the advertising state's current
    day_mah: float  # over a day of idling
    idle_h: float  # advertising (idle, radio on) on a full battery, with the watch
    idle_h_without: float  # the same with the IMU powered down instead
    tail_mah: float  # the IMU at full rate for REST_STOP_S after a pod's own session


def _sum(rows: Sequence[Row], board: str, state: str, prefixes: tuple[str, ...]) -> float:
    return sum(
        r.current_ma
        for r in rows
        if r.board == board and r.state == state and r.component.startswith(prefixes)
    )


def watch(rows: Sequence[Row], board: str, bat: Battery, rest_s: float = REST_STOP_S) -> Watch:
    adv = state_totals(rows)[(board, "advertising")]
    w = _sum(rows, board, "advertising", (WATCH,))
    if w <= 0:
        raise BudgetError(f"board {board} has no advertising rows named '{WATCH}: ...'")
    power_down = _sum(rows, board, "idle", ("imu",))  # the IMU as it idled before the watch
    full = _sum(rows, board, "streaming", ("imu", "i2c"))
    return Watch(
        watch_ma=w,
        share_pct=100.0 * w / adv,
        day_mah=24.0 * w,
        idle_h=bat.usable_mah / adv,
        idle_h_without=bat.usable_mah / (adv - w + power_down),
        tail_mah=(full - w) * rest_s / 3600.0,
    )


def watch_markdown(rows: Sequence[Row], bat: Battery) -> str:
    names = boards(rows)
    costs = [watch(rows, b, bat) for b in names]
    out = ["| idle motion watch (AUTO_START on) | " + " | ".join(names) + " |"]
    out.append("|---|" + "---:|" * len(names))
    for label, cell in (
        ("current (mA)", "{w.watch_ma:.4f}"),
        ("share of the advertising state", "{w.share_pct:.2f} %"),
        ("a day of idling (mAh)", "{w.day_mah:.2f}"),
        (
            "idle on a full battery, with / without it (h)",
            "{w.idle_h:.3f} / {w.idle_h_without:.3f}",
        ),
        (f"the {REST_STOP_S} s rest tail of a pod's own session (mAh)", "{w.tail_mah:.4f}"),
    ):
        out.append(f"| {label} | " + " | ".join(cell.format(w=w) for w in costs) + " |")
    return "\n".join(out) + "\n"


def _ma(x: float) -> str:
    if x < 0.01:
        return f"{x:.4f}"
    return f"{x:.3f}" if x < 1 else f"{x:.1f}"


def markdown(rows: Sequence[Row], scenarios: dict[str, dict[str, float]], bat: Battery) -> str:
    totals = state_totals(rows)
    names = boards(rows)
    if PRACTICE not in scenarios:
        raise BudgetError(f"scenario {PRACTICE} is missing from the scenarios table")
    mix = scenarios[PRACTICE]
    head = "| state | " + " | ".join(f"{b} (mA)" for b in names) + " |"
    out = [head, "|---|" + "---:|" * len(names)]
    for s in STATES:
        out.append(f"| {s} | " + " | ".join(_ma(totals[(b, s)]) for b in names) + " |")
    minutes = ", ".join(f"{s} {m:g} min" for s, m in mix.items())
    out += ["", f"Battery: {bat.capacity_mah:g} mAh LiPo, {bat.usable_fraction:.0%} usable "]
    out[-1] += f"= {bat.usable_mah:g} mAh. Practice ({PRACTICE}): {minutes}."
    out += ["", "| result | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lives = [life(totals, b, mix, bat) for b in names]
    for label, fmt, attr in (
        ("one 2 h practice uses (mAh)", "{:.0f}", "practice_mah"),
        ("one 2 h practice uses (% of usable)", "{:.0f} %", "practice_pct"),
        ("2 h practices per charge", "{:.1f}", "practices_per_charge"),
        ("continuous streaming (h)", "{:.1f}", "streaming_h"),
        ("standby in deep idle, full battery (days)", "{:.0f}", "standby_days"),
        ("standby left after one practice (days)", "{:.0f}", "standby_after_practice_days"),
    ):
        out.append(f"| {label} | " + " | ".join(fmt.format(getattr(x, attr)) for x in lives) + " |")
    out += ["", watch_markdown(rows, bat).rstrip("\n")]
    out += ["", "| board | state | component | mA | basis | source |", "|---|---|---|---:|---|---|"]
    for r in rows:
        src = r.source.replace("|", "/")
        out.append(
            f"| {r.board} | {r.state} | {r.component} | {_ma(r.current_ma)} | {r.basis} | {src} |"
        )
    return "\n".join(out) + "\n"


def splice(doc: str, block: str) -> str:
    """``doc`` with the text between the BEGIN and END markers replaced by ``block``."""
    start, stop = doc.find(BEGIN), doc.find(END)
    if start < 0 or stop < start:
        raise BudgetError(f"the document has no {BEGIN} ... {END} section")
    return doc[: start + len(BEGIN)] + "\n" + block + doc[stop:]


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Recompute the pod's power budget and battery life.")
    p.add_argument("--table", type=Path, default=HERE / "power_budget.csv")
    p.add_argument("--scenarios", type=Path, default=HERE / "power_scenarios.csv")
    p.add_argument("--capacity-mah", type=float, default=CAPACITY_MAH)
    p.add_argument("--usable", type=float, default=USABLE_FRACTION, help="usable share, 0-1")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--standalone", action="store_true", help="print only what the idle motion watch costs"
    )
    group.add_argument("--check", type=Path, metavar="DOC", help="fail if DOC is out of date")
    group.add_argument("--write", type=Path, metavar="DOC", help="rewrite DOC's tables")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    try:
        if not 0 < args.usable <= 1:
            raise BudgetError(f"--usable must be in (0, 1], got {args.usable}")
        bat = Battery(args.capacity_mah, args.usable)
        if args.standalone:
            sys.stdout.write(watch_markdown(load_rows(args.table), bat))
            return 0
        block = markdown(load_rows(args.table), load_scenarios(args.scenarios), bat)
        if args.check or args.write:
            path = args.check or args.write
            doc = path.read_text()
            new = splice(doc, block)
            if args.write:
                path.write_text(new)
            elif new != doc:
                print(f"{path} is out of date: run power_budget.py --write {path}")
                return 1
        else:
            sys.stdout.write(block)
    except (BudgetError, OSError) as e:
        print(f"power_budget: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
