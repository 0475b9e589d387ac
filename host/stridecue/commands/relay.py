"""stridecue relay: a baton exchange measured from two runners' strides on one clock.

  stridecue relay IN.csv OUT.csv --leg-m L --mark-m M [--zone-m 30] [--reach-m 1.5]
                  [--target-m 20] [--foot-m 0.3] [--json]
  stridecue relay SESSION [--team A,B,C,D] [--relay SETUP.toml] [--json]

Each CSV is one runner's strides (header t_s,stride_time_s,stride_length_m, as
``stridecue analyze`` reads them; t_s is the contact that ends the stride). Positions
are metres from the start of the zone, where the outgoing runner stands: the incoming
runner is L metres before it when their first stride begins; the check mark is M
metres before it. Every stride counts for the positions, so a stride the analyzer
would reject (impossible, out of order) is an error here, not skipped.

A session is analysed with the relay setup stored in its settings (``relay``: team,
legs_m, zones_m, marks_m or marks_feet, approach_m, targets_s) or given with --relay
(a TOML or JSON file of the same table); --team gives the running order (athlete
names or pods). Every attempt in the session is an exchange: a run of the incoming
runner during which the outgoing runner sets off. When the coach changed the setup
during the practice (``relay_history``: each setup with when it was applied), each
attempt is measured with the setup in force when the incoming runner set off, and
the output says which (its number, when it was set, the mark and the zone).
"""

from __future__ import annotations

import argparse
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from stridecue import relay
from stridecue.analysis.validate import StrideValidator
from stridecue.commands.analyze import read_strides
from stridecue.relay import RelayError, RelaySetup, S


def register(sub: Any) -> None:
    p = sub.add_parser(
        "relay",
        help="measure a relay exchange: hand-off point, speeds, check-mark advice",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="IN.csv OUT.csv | SESSION")
    p.add_argument("--leg-m", type=float, help="incoming runner's metres from first stride to zone")
    p.add_argument("--mark-m", type=float, help="check mark: metres before the zone")
    p.add_argument("--zone-m", type=float, default=relay.ZONE_SPRINT_M, help="zone length (30)")
    p.add_argument("--reach-m", type=float, default=relay.REACH_M, help="hand-off reach (1.5)")
    p.add_argument("--target-m", type=float, default=None, help="wanted hand-off point (20)")
    p.add_argument("--foot-m", type=float, default=None, help="one foot length, m (0.3)")
    p.add_argument(
        "--slowed-pct",
        type=float,
        default=100 * relay.SLOWED_FRACTION,
        help="incoming runner slowed: last strides this %% below their leg's pace (6)",
    )
    p.add_argument("--team", help="running order for a session: A,B,C,D (names or pods)")
    p.add_argument("--relay", type=Path, help="relay setup file (TOML or JSON) for a session")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=run)


def read_run(path: Path) -> list[S]:
    """Every stride of a CSV; RelayError names the first one that cannot be a stride."""
    v = StrideValidator()
    out = []
    for line, t, st, sl, ct, _flags in read_strides(path):
        why = v.check(t, st, sl, ct, -1)
        if why is not None:
            raise RelayError(
                f"{path} line {line}: stride rejected ({why.replace('_', ' ')}); "
                "relay positions need every stride"
            )
        out.append(S(t, st, sl))
    if not out:
        raise RelayError(f"{path}: no strides")
    return out


def load_setup(path: Path) -> RelaySetup:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RelayError(f"cannot read relay setup {path}: {e}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as e:
        raise RelayError(f"{path}: not a relay setup ({e})") from None
    if isinstance(data, dict) and isinstance(data.get("relay"), dict):
        data = data["relay"]
    try:
        return RelaySetup.from_dict(data)
    except RelayError as e:
        raise RelayError(f"{path}: {e}") from None  # which file, for --relay on any command


def run(args: argparse.Namespace) -> int:
    if args.slowed_pct <= 0 or not math.isfinite(args.slowed_pct) or args.slowed_pct >= 100:
        raise RelayError(f"--slowed-pct={args.slowed_pct:g} must be within 0..100")
    if len(args.inputs) == 2:
        return _two_csvs(args)
    if len(args.inputs) == 1:
        return _session(args)
    raise RelayError("give two stride CSVs (incoming, outgoing) or one session folder")


def _two_csvs(args: argparse.Namespace) -> int:
    if args.leg_m is None or args.mark_m is None:
        raise RelayError("two CSVs need --leg-m (incoming run-up to the zone) and --mark-m")
    incoming = read_run(Path(args.inputs[0]))
    outgoing = read_run(Path(args.inputs[1]))
    ex = relay.exchange(
        incoming,
        outgoing,
        approach_m=args.leg_m,
        mark_m=args.mark_m,
        zone_m=args.zone_m,
        reach_m=args.reach_m,
        target_m=relay.TARGET_M if args.target_m is None else args.target_m,
        foot_m=relay.FOOT_M if args.foot_m is None else args.foot_m,
        slowed_fraction=args.slowed_pct / 100.0,
    )
    if args.json:
        print(json.dumps(ex.as_json(), allow_nan=False))
    else:
        print("\n".join(relay.describe(ex)))
    return 0


def _session(args: argparse.Namespace) -> int:
    from stridecue import sessiondata
    from stridecue.links.replay import resolve_session

    given = Path(args.inputs[0])
    if given.is_file():
        raise RelayError(f"{given}: give two stride CSVs (incoming, outgoing) or one session")
    data = sessiondata.load(resolve_session(args.inputs[0]))  # a folder, or its name
    if args.relay is not None:
        history = [relay.SetupAt(0.0, load_setup(args.relay))]
    else:
        history = relay.stored_setups(data.meta.get("settings", {}), data.host_s)
        if not history:
            raise RelayError(f"{data.name} stores no relay setup; give one with --relay SETUP.toml")
    if args.team:
        order = tuple(n.strip() for n in args.team.split(","))
        history = [relay.SetupAt(h.t_s, _reorder(h.setup, order)) for h in history]
    setup = max(history, key=lambda h: h.t_s).setup  # the newest: the team plan's
    names = {n for h in history for n in h.setup.team}
    athletes = {name: data.athlete(name) for name in names}
    results: list[dict[str, Any]] = []
    lines: list[str] = []
    several = len(history) > 1
    for at in relay.history_attempts(
        {n: a.strides for n, a in athletes.items()},
        history,
        target_m=args.target_m,
        foot_m=args.foot_m,
        slowed_fraction=args.slowed_pct / 100.0,
    ):
        ex = at.exchange
        results.append(
            {
                "incoming": at.incoming,
                "outgoing": at.outgoing,
                "setup": at.setup_no,
                "setup_set_s": None if at.set_at_s is None else round(at.set_at_s, 2),
                **ex.as_json(),
            }
        )
        head = f"Exchange {at.leg + 1}, {at.incoming} to {at.outgoing}"
        lines.append(f"{head} ({relay.setup_words(at)}):" if several else f"{head}:")
        lines.extend("  " + line for line in relay.describe(ex, at.incoming, at.outgoing))
    if not results:
        raise RelayError(f"{data.name}: no exchange found (no runner set off during another's run)")
    team = [athletes[name] for name in setup.team]
    speeds = [relay.leg_speed_mps(max(relay.runs(a.strides), key=len)) if a.strides else None
              for a in team]  # fmt: skip
    plan = relay.team_plan(setup, speeds)
    if args.json:
        out = {"exchanges": results, "plan": [_plan_json(r) for r in plan]}
        print(json.dumps(out, allow_nan=False))
    else:
        print("\n".join([*lines, "", "Team plan (projected at each runner's speed):"]))
        print("\n".join(relay.describe_plan(plan)))
    return 0


def _reorder(setup: RelaySetup, order: tuple[str, ...]) -> RelaySetup:
    if len(order) != len(setup.team):
        raise RelayError(f"--team names {len(order)} runners, the setup has {len(setup.team)}")
    return RelaySetup.from_dict({**setup.as_dict(), "team": list(order)})


def _plan_json(r: relay.LegPlan) -> dict[str, Any]:
    def rd(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    return {
        "runner": r.runner,
        "leg_m": r.leg_m,
        "target_s": rd(r.target_s),
        "projected_s": rd(r.projected_s),
        "diff_s": rd(r.diff_s),
        "team_target_s": rd(r.team_target_s),
        "team_projected_s": rd(r.team_projected_s),
    }
