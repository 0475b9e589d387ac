"""``stridecue pod ACTION LINK``: look after a pod itself, over BLE or USB.

What a pod keeps for itself, for when no host is there, and who it trusts. One
subparser per action, each added by its own ``_add_*`` function listed in
``ACTIONS`` (with :func:`action`, which gives it the LINK argument) and run with
:func:`with_pod`:

- ``config``: the targets the pod cues by on its own (cadence band, stride
  shortening, which pattern for which), its coach for reps (pacer, split buzz,
  the split plan it judges each 100 m by, distance scale, shortening guard), and
  when it measures by itself (auto start, the rest that ends it). SET_CONFIG;
  the pod keeps them on its flash.
- ``sync``: download the sessions the pod recorded on its own into the sessions
  folder, once (:mod:`stridecue.podsync`).
- ``bonds``: list the hosts the pod keeps BLE bonds for; ``forget``: make it
  forget one of them, or all. Over BLE only a bonded host may ask; over USB
  (``serial:``) anyone with the cable.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from stridecue import podsync
from stridecue.analysis.plan import Plan
from stridecue.commands._practice import sessions_dir
from stridecue.errors import ConfigError, LinkError
from stridecue.links import BleOptions, LinkOptions, SerialOptions, open_link
from stridecue.links.base import check_reply
from stridecue.links.podlink import PodLink
from stridecue.protocol.records import (
    PLAN_KEYS,
    PLAN_MAX_MS,
    PLAN_MIN_MS,
    ConfigKey,
    ControlRequest,
    Pattern,
    Result,
)

T = TypeVar("T")
LINK_HELP = "the pod: serial:PORT, or ble:NAME-or-ADDRESS once paired (`stridecue pair`)"
ALERTS = {"cadence": ConfigKey.CADENCE_PATTERN, "shortening": ConfigKey.SHORTENING_PATTERN}
PATTERNS = {p.name.lower(): p for p in (Pattern.RHYTHM, Pattern.STRIDE, Pattern.IDENTIFY)}
_ADDRESS_TYPES = {0: "public", 1: "random"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pod",
        help="a pod's own cue targets, the sessions it recorded alone, its BLE bonds",
        description="Set what a pod does without a host, download what it measured alone, "
        "and list or forget the hosts it keeps BLE bonds for.",
    )
    actions = p.add_subparsers(dest="pod_command", metavar="ACTION", required=True)
    for add in ACTIONS:
        add(actions)


def action(actions: Any, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """One ``stridecue pod NAME LINK`` action (its own options are the caller's)."""
    p: argparse.ArgumentParser = actions.add_parser(name, help=summary, description=description)
    p.add_argument("link", metavar="LINK", help=LINK_HELP)
    return p


def pod_options(spec: str) -> LinkOptions:
    """Link settings for one short exchange: no time sync, no reconnect."""
    scheme = spec.partition(":")[0]
    if scheme == "ble":
        return BleOptions(time_sync_rounds=0, reconnect=False)
    if scheme == "serial":
        return SerialOptions(time_sync_rounds=0)
    raise LinkError(f"{spec!r}: `stridecue pod` talks to a pod: use {LINK_HELP}")


def with_pod(spec: str, work: Callable[[PodLink], Awaitable[T]]) -> T:
    """Connect to the pod named by ``spec``, run ``work`` on it, close."""

    async def run() -> T:
        link = open_link(spec, pod_options(spec))
        assert isinstance(link, PodLink)
        await link.connect()
        try:
            return await work(link)
        finally:
            await link.close()

    return asyncio.run(run())


# ---- config ----
def _add_config(actions: Any) -> None:
    p = action(
        actions,
        "config",
        "set the targets the pod cues by when no host is connected (kept on the pod)",
        "Set once what the pod does on its own: it measures whenever it is worn and moving, "
        "and with no host connected it buzzes when the cadence leaves the band or the "
        "strides shorten; its coach paces a cadence, buzzes each 100 m of a rep and guards "
        "the rep against shortening strides. The pod keeps these on its flash. Without "
        "options: print what "
        "the pod has.",
    )
    p.add_argument(
        "--cadence",
        type=_cadence,
        metavar="LO-HI|off",
        help="cue when the cadence leaves LO-HI steps/min (100-240), e.g. 170-185; off: no cue",
    )
    p.add_argument(
        "--shortening", type=_on_off, metavar="on|off", help="cue when the strides shorten"
    )
    p.add_argument(
        "--patterns",
        type=_patterns,
        metavar="ALERT=PATTERN,...",
        help="which buzz for which alert: cadence=rhythm,shortening=stride (patterns: "
        + ", ".join(PATTERNS)
        + ")",
    )
    p.add_argument(
        "--pacer",
        type=_pacer,
        metavar="SPM[/N]|off",
        help="tick SPM steps/min (100-240), one pulse every N steps (1-16; 4), until the "
        "cadence matches; off: no pacer",
    )
    p.add_argument(
        "--split-buzz",
        type=_on_off,
        metavar="on|off",
        help="in a rep, buzz at each 100 m: one pulse on plan, two behind it",
    )
    p.add_argument(
        "--scale",
        type=_scale,
        metavar="F",
        help="the pod's own distance times F (0.8-1.2; 1), e.g. from a measured 400 m",
    )
    p.add_argument(
        "--guard",
        type=_guard,
        metavar="METRES|off",
        help="cue stride shortening in reps this long (100-10000, e.g. 400); off: no guard",
    )
    p.add_argument(
        "--split-plan",
        metavar="SPEC|off",
        help="the plan the split buzz judges each 100 m by: 100:11.5,200:24,400:50 "
        "(metres:seconds), even:50 or shape:50, up to 600 m; off: no plan (one pulse each "
        "100 m)",
    )
    p.add_argument(
        "--rep-distance",
        type=float,
        metavar="M",
        help="the rep the split plan is for (100-600 m; default: --guard's rep, else the "
        "plan's last checkpoint)",
    )
    p.add_argument("--auto", type=_on_off, metavar="on|off", help="start a session on motion (on)")
    p.add_argument(
        "--rest-stop",
        type=int,
        metavar="SECONDS",
        help="end the pod's own session this long after its last stride (10-3600; 60)",
    )
    p.set_defaults(func=run_config)


def _on_off(text: str) -> int:
    if text.lower() not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"{text!r}: write on or off")
    return int(text.lower() == "on")


OFF = (0, 0)  # --cadence off


def _cadence(text: str) -> tuple[int, int]:
    if text.lower() == "off":
        return OFF
    lo, sep, hi = text.partition("-")
    try:
        band = (int(lo), int(hi))
    except ValueError:
        band = None
    if not sep or band is None or not 100 <= band[0] < band[1] <= 240:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write LO-HI steps/min, 100 <= LO < HI <= 240 (e.g. 170-185), or off"
        )
    return band


def _pacer(text: str) -> tuple[int, int | None]:
    """``SPM[/N]`` -> (spm, n or None); ``off`` -> (0, None)."""
    if text.lower() == "off":
        return 0, None
    spm, sep, every = text.partition("/")
    try:
        got = (int(spm), int(every) if sep else None)
    except ValueError:
        got = None
    if got is None or not 100 <= got[0] <= 240 or (got[1] is not None and not 1 <= got[1] <= 16):
        raise argparse.ArgumentTypeError(
            f"{text!r}: write SPM or SPM/N, 100 <= SPM <= 240 steps/min, 1 <= N <= 16 "
            "steps (e.g. 180/4), or off"
        )
    return got


def _scale(text: str) -> int:
    try:
        permille = round(float(text) * 1000)
    except ValueError:
        permille = 0
    if not 800 <= permille <= 1200:
        raise argparse.ArgumentTypeError(f"{text!r}: write a factor from 0.8 to 1.2 (e.g. 1.03)")
    return permille


def _guard(text: str) -> int:
    if text.lower() == "off":
        return 0
    try:
        metres = int(text)
    except ValueError:
        metres = 0
    if not 100 <= metres <= 10000:
        raise argparse.ArgumentTypeError(f"{text!r}: write the rep in metres (100-10000), or off")
    return metres


def _patterns(text: str) -> dict[ConfigKey, int]:
    out: dict[ConfigKey, int] = {}
    for part in text.split(","):
        alert, _, name = part.partition("=")
        key, pattern = ALERTS.get(alert.strip().lower()), PATTERNS.get(name.strip().lower())
        if key is None or pattern is None:
            raise argparse.ArgumentTypeError(
                f"{part!r}: write ALERT=PATTERN, ALERT one of {', '.join(ALERTS)}, "
                f"PATTERN one of {', '.join(PATTERNS)}"
            )
        out[key] = int(pattern)
    return out


OFF_PLAN = ()  # --split-plan off


def split_plan_ms(spec: str, rep_m: float | None = None) -> tuple[int, ...]:
    """A plan as the pod keeps it: the planned elapsed ms at each 100 m of a rep of
    ``rep_m`` metres (default: the plan's last checkpoint; past it, the last segment's
    pace). ConfigError in one line for a plan the pod cannot hold."""
    if spec.strip().lower() == "off":
        return OFF_PLAN
    plan = Plan.for_rep(spec, rep_m)
    rep = plan.distance_m if rep_m is None else rep_m
    most = 100 * len(PLAN_KEYS)
    if not 100 <= rep <= most:
        raise ConfigError(
            f"split plan {spec!r} for a {rep:g} m rep: the pod holds a plan for reps of 100 to "
            f"{most} m (its 100 m checkpoints); give --rep-distance up to {most}"
        )
    out = tuple(
        round(plan.plan_elapsed_s(100.0 * k) * 1000) for k in range(1, int(rep / 100 + 1e-9) + 1)
    )
    for k, ms in enumerate(out, 1):
        if not PLAN_MIN_MS <= ms <= PLAN_MAX_MS:
            raise ConfigError(
                f"split plan {spec!r}: {100 * k} m at {ms / 1000:g} s is out of range; the pod "
                f"keeps 1 s to {PLAN_MAX_MS // 60000} min"
            )
    return out


def _plan_rep_m(args: argparse.Namespace) -> float | None:
    # the rep a plan is for: --rep-distance, else --guard's rep, else the plan's own
    if args.rep_distance is not None:
        return float(args.rep_distance)
    return float(args.guard) if args.guard else None


def run_config(args: argparse.Namespace) -> int:
    if args.rest_stop is not None and not 10 <= args.rest_stop <= 3600:
        raise LinkError(f"--rest-stop {args.rest_stop}: use 10 to 3600 seconds")
    if args.rep_distance is not None and args.split_plan is None:
        raise ConfigError("--rep-distance goes with --split-plan: the rep the plan is for")
    if args.split_plan is not None:
        split_plan_ms(args.split_plan, _plan_rep_m(args))  # refused before the pod is asked
    have = with_pod(args.link, lambda link: configure(link, args))
    print(describe(args.link, have))
    return 0


async def _read_plan(link: PodLink) -> tuple[int, ...] | None:
    """The plan keys as the pod has them; None from a firmware without them."""
    out = []
    for key in PLAN_KEYS:
        reply = await link.control(ControlRequest.get_config(link.token(), key))
        if reply.result is Result.OUT_OF_RANGE and key is PLAN_KEYS[0]:
            return None  # a firmware from before the split plan
        check_reply(link.spec, reply)
        out.append(int.from_bytes(reply.payload[1:5], "little"))
    return tuple(out)


async def configure(link: PodLink, args: argparse.Namespace) -> dict[ConfigKey, int]:
    """Send what ``args`` ask for; returns every setting as the pod has it now (the
    split plan's keys only from a firmware that has them)."""
    plan = None
    if getattr(args, "split_plan", None) is not None:
        plan = split_plan_ms(args.split_plan, _plan_rep_m(args))
        if await _read_plan(link) is None:
            raise LinkError(
                f"{link.spec}: this pod's firmware has no split plan; install the current "
                "one with `stridecue device install`"
            )
    if args.cadence not in (None, OFF):
        lo, hi = args.cadence
        # the pod keeps LOW < HIGH at every step: move the bound that keeps it so first
        if hi > await link.get_config(ConfigKey.FALLBACK_LOW_SPM):
            await link.set_config(ConfigKey.FALLBACK_HIGH_SPM, hi)
            await link.set_config(ConfigKey.FALLBACK_LOW_SPM, lo)
        else:
            await link.set_config(ConfigKey.FALLBACK_LOW_SPM, lo)
            await link.set_config(ConfigKey.FALLBACK_HIGH_SPM, hi)
    changes: dict[ConfigKey, int | None] = {
        ConfigKey.FALLBACK_CUES: None if args.cadence is None else int(args.cadence != OFF),
        ConfigKey.FALLBACK_SHORTENING: args.shortening,
        ConfigKey.AUTO_START: args.auto,
        ConfigKey.REST_STOP_S: args.rest_stop,
        ConfigKey.PACER_SPM: None if args.pacer is None else args.pacer[0],
        ConfigKey.PACER_EVERY_STEPS: None if args.pacer is None else args.pacer[1],
        ConfigKey.SPLIT_BUZZ: args.split_buzz,
        ConfigKey.DISTANCE_SCALE_PERMILLE: args.scale,
        ConfigKey.GUARD_REP_M: args.guard,
        **(args.patterns or {}),
    }
    if plan is not None:
        for key, ms in zip(PLAN_KEYS, plan + (0,) * len(PLAN_KEYS), strict=False):
            changes[key] = ms
    for key, value in changes.items():
        if value is not None:
            await link.set_config(key, value)
    have = {key: await link.get_config(key) for key in ConfigKey if key not in PLAN_KEYS}
    kept = await _read_plan(link)
    if kept is not None:
        have.update(zip(PLAN_KEYS, kept, strict=True))
    return have


def plan_prefix(values: tuple[int, ...]) -> tuple[int, ...]:
    """What the pod's coach uses of its plan keys: the longest strictly increasing
    non-zero prefix (as firmware/stridepod/app.py reads them)."""
    out: list[int] = []
    for v in values:
        if v <= (out[-1] if out else 0):
            break
        out.append(v)
    return tuple(out)


def clock_s(seconds: float) -> str:
    """``11.5`` -> ``11.5 s``; ``83.4`` -> ``1:23.4`` (a coach's stopwatch)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"


def plan_words(values: tuple[int, ...] | None) -> str:
    """The split plan the pod keeps, in a coach's words."""
    if values is None:
        return "not on this firmware (install the current one)"
    plan = plan_prefix(values)
    if not plan:
        return "none: each 100 m is one pulse"
    marks = ", ".join(f"{100 * k} m {clock_s(ms / 1000)}" for k, ms in enumerate(plan, 1))
    return f"{marks} (two pulses when later than 0.2 s)"


def describe(spec: str, have: dict[ConfigKey, int]) -> str:
    def pattern(key: ConfigKey) -> str:
        return Pattern(have[key]).name.lower()

    def on(key: ConfigKey) -> str:
        return "on" if have[key] else "off"

    band = f"{have[ConfigKey.FALLBACK_LOW_SPM]}-{have[ConfigKey.FALLBACK_HIGH_SPM]} steps/min"
    spm = have[ConfigKey.PACER_SPM]
    pacer = (
        f"on: {spm} steps/min, a pulse every {have[ConfigKey.PACER_EVERY_STEPS]} steps "
        "until matched"
        if spm
        else "off"
    )
    rep = have[ConfigKey.GUARD_REP_M]
    guard = (
        f"on: reps of {rep} m, buzz {pattern(ConfigKey.SHORTENING_PATTERN)} (no host connected)"
        if rep
        else "off"
    )
    plan = tuple(have[k] for k in PLAN_KEYS) if PLAN_KEYS[0] in have else None
    return "\n".join(
        [
            f"{spec} keeps:",
            f"  cadence cue        {on(ConfigKey.FALLBACK_CUES)}: outside {band}, "
            f"buzz {pattern(ConfigKey.CADENCE_PATTERN)} (no host connected)",
            f"  shortening cue     {on(ConfigKey.FALLBACK_SHORTENING)}: "
            f"buzz {pattern(ConfigKey.SHORTENING_PATTERN)} (no host connected)",
            f"  measures by itself {on(ConfigKey.AUTO_START)}: starts on motion, stops "
            f"{have[ConfigKey.REST_STOP_S]} s after the last stride",
            f"  pacer              {pacer}",
            f"  split buzz         {on(ConfigKey.SPLIT_BUZZ)}: each 100 m of a rep, "
            f"distance x {have[ConfigKey.DISTANCE_SCALE_PERMILLE] / 1000:.3f}",
            f"  split plan         {plan_words(plan)}",
            f"  shortening guard   {guard}",
        ]
    )


# ---- sync ----
def _add_sync(actions: Any) -> None:
    p = action(
        actions,
        "sync",
        "download the sessions the pod recorded on its own, once",
        "Download every session the pod recorded without a host into the sessions folder, "
        "as a session folder that replay, report and export read. The pod keeps each one "
        "until it has been stored here; a second sync downloads nothing.",
    )
    p.add_argument(
        "--sessions-dir",
        type=Path,
        default=None,
        help="where sessions are kept ($STRIDECUE_SESSIONS or ~/stridecue-sessions)",
    )
    p.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    root = sessions_dir(args)
    got = with_pod(args.link, lambda link: podsync.sync(link, root, say=print))
    if not got:
        print(f"nothing to download: {args.link} holds no session that is not stored yet")
    else:
        print(f"{len(got)} session(s) from {args.link} in {root}")
    return 0


# ---- bonds ----
def _add_bonds(actions: Any) -> None:
    p = action(
        actions,
        "bonds",
        "list the hosts the pod keeps BLE bonds for",
        "List the hosts bonded with the pod (they may receive strides and cue). Over BLE "
        "only a bonded host may ask; over USB (serial:) anyone with the cable.",
    )
    p.set_defaults(func=run_bonds)


def run_bonds(args: argparse.Namespace) -> int:
    bonds = with_pod(args.link, lambda link: link.list_bonds())
    if not bonds:
        print("no bonds: pair a host with `stridecue pair ble:POD` in the pod's pairing window")
        return 0
    for b in bonds:
        print(f"{b.address}  {_ADDRESS_TYPES.get(b.address_type, str(b.address_type))}")
    print(f"\n{len(bonds)} bond(s); forget one with: stridecue pod forget {args.link} ADDRESS")
    return 0


# ---- forget ----
FORGET_HELP = "make the pod forget a bonded host (or all of them)"
FORGET_MORE = (
    ": it gets no StrideCue data until it pairs again in the pod's pairing window. "
    "Holding the pod's button 8 s forgets every host."
)


def _add_forget(actions: Any) -> None:
    p = action(actions, "forget", FORGET_HELP, FORGET_HELP + FORGET_MORE)
    p.add_argument(
        "address", nargs="?", metavar="ADDRESS", help="the host's address, as `pod bonds` lists"
    )
    p.add_argument("--all", action="store_true", help="forget every bonded host")
    p.set_defaults(func=run_forget)


def run_forget(args: argparse.Namespace) -> int:
    if args.all == bool(args.address):
        raise ConfigError("name one ADDRESS (see `stridecue pod bonds LINK`) or give --all")
    want = None if args.all else args.address.upper().replace("-", ":")

    async def forget(link: PodLink) -> tuple[int, str]:
        if want is None:
            return await link.forget_bond(None), "every bond"
        bond = next((b for b in await link.list_bonds() if b.address == want), None)
        if bond is None:
            raise LinkError(f"the pod has no bond with {want}; `stridecue pod bonds` lists them")
        return await link.forget_bond(bond), want

    n, what = with_pod(args.link, forget)
    print(f"forgot {what}: {n} bond(s); a forgotten host pairs again to get StrideCue data")
    return 0


ACTIONS: tuple[Callable[[Any], None], ...] = (_add_config, _add_sync, _add_bonds, _add_forget)
