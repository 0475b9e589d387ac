"""The roster: which athlete wears which pod.

A TOML file, one line per pod; the key is whatever names the pod (its BLE name,
its address, a serial port, or a recorded pod id) and the value the athlete::

    "StrideCue-EE01" = "Ana"
    "AA:BB:CC:DD:EE:02" = "Ben"
    "/dev/ttyACM0" = "Cleo"

It also keeps each athlete's distance calibration (``stridecue calibrate``), as a
watch does: the factor their pod's distance is multiplied by, the reps it rests on
and the date of the last calibration. Tables at the end of the file::

    [calibration."Ana"]
    scale = 1.0185
    reps = 3
    date = "2025-05-14"

A new calibration combines with the stored one, each weighted by its reps.

And the coach's split plans, per athlete and rep type (the rep's distance in metres),
in any form ``stridecue analyze --plan`` takes (:mod:`stridecue.analysis.plan`)::

    [plan."Ana"]
    400 = "100:11.5,200:24,400:50"
    600 = "even:93"

A plan is for the whole rep: its last checkpoint is the key's distance (``even:S``
without a distance means S seconds over the key's distance, so ``600 = "even:93"`` is
a 600 m in 93 s; ``shape:S`` is a 400 m shape, for the key 400 only).
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path

from stridecue.analysis.plan import Plan
from stridecue.analysis.targets import REP_DISTANCE_RANGE_M
from stridecue.errors import ConfigError
from stridecue.links.base import PodInfo


def default_path(sessions_dir: Path) -> Path:
    """$STRIDECUE_ROSTER, else roster.toml in the sessions folder."""
    env = os.environ.get("STRIDECUE_ROSTER")
    return Path(env) if env else sessions_dir / "roster.toml"


def load(path: Path, *, required: bool = False) -> dict[str, str]:
    """Pod → athlete; an absent file is an empty roster unless ``required``."""
    if not path.is_file():
        if required:
            raise ConfigError(f'roster {path} not found; write lines like "StrideCue-EE01" = "Ana"')
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(
            f'roster {path}: {e}; pod lines are "POD" = "ATHLETE", and plan lines under '
            '[plan."NAME"] are 400 = "even:50" (text in quotes)'
        ) from None
    out: dict[str, str] = {}
    for pod, name in data.items():
        if pod in (CALIBRATION, PLAN) and isinstance(name, dict):
            continue
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"roster {path}: {pod!r} must map to an athlete's name in quotes, got {name!r}"
            )
        out[pod] = name.strip()
    return out


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``--athlete POD=NAME`` options."""
    out: dict[str, str] = {}
    for pair in pairs:
        pod, sep, name = pair.partition("=")
        if not sep or not pod or not name:
            raise ConfigError(f"--athlete {pair!r}: write POD=NAME, e.g. StrideCue-EE01=Ana")
        out[pod.strip()] = name.strip()
    return out


def athlete_for(roster: dict[str, str], info: PodInfo, link: str = "") -> str:
    """The athlete wearing the pod, matched by pod id, address, name or link target."""
    target = link.partition(":")[2]
    for key in (info.pod, info.address, info.name, link, target):
        if key and key in roster:
            return roster[key]
    return ""


CALIBRATION = "calibration"
#: a scale outside this is not a mismeasured distance but a wrong rep or pod
SCALE_RANGE = (0.8, 1.2)
_TABLE = re.compile(r"^\s*\[\s*calibration\s*[.\]]")
_HEADER = re.compile(r"^\s*\[")


@dataclass(frozen=True, slots=True)
class Calibration:
    """An athlete's distance scale, the number of reps it rests on, and when it was set."""

    scale: float
    reps: int
    date: str

    def __post_init__(self) -> None:
        lo, hi = SCALE_RANGE
        if not (math.isfinite(self.scale) and lo <= self.scale <= hi):
            raise ConfigError(
                f"distance scale {self.scale:.4f} is out of range: allowed {lo:g}..{hi:g} "
                "(a measured distance this far off is another rep, not a calibration)"
            )
        if self.reps < 1:
            raise ConfigError(f"a calibration rests on at least one rep, got {self.reps}")

    def combine(self, other: Calibration) -> Calibration:
        """Both calibrations, each weighted by its reps; the later date."""
        n = self.reps + other.reps
        scale = (self.scale * self.reps + other.scale * other.reps) / n
        return Calibration(round(scale, 5), n, max(self.date, other.date))


def _read(path: Path) -> dict[str, object]:
    """The roster file's tables (an absent file: none), or one ConfigError line."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"roster {path}: {e}") from None


def calibrations(path: Path) -> dict[str, Calibration]:
    """Athlete -> calibration from the roster file (an absent file: none)."""
    data = _read(path)
    table = data.get(CALIBRATION, {})
    out: dict[str, Calibration] = {}
    if not isinstance(table, dict):
        raise ConfigError(f"roster {path}: [calibration] must hold one table per athlete")
    for name, entry in table.items():
        try:
            out[name] = Calibration(float(entry["scale"]), int(entry["reps"]), str(entry["date"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(
                f"roster {path}: calibration of {name!r} needs scale, reps and date ({e})"
            ) from None
    return out


def scales(path: Path) -> dict[str, float]:
    """Athlete -> distance scale, for the analyzer's ``distance_scale``."""
    return {name: c.scale for name, c in calibrations(path).items()}


def calibrate(path: Path, athlete: str, new: Calibration) -> Calibration:
    """Combine ``new`` with the athlete's stored calibration and write the roster file.

    The pod lines and comments are kept as written; the calibration tables are written
    again at the end of the file. Returns the combined calibration.
    """
    stored = calibrations(path)
    old = stored.get(athlete)
    stored[athlete] = combined = new if old is None else old.combine(new)
    lines = path.read_text().splitlines() if path.is_file() else []
    kept: list[str] = []
    skipping = False
    for line in lines:
        if _HEADER.match(line):
            skipping = bool(_TABLE.match(line))
        if not skipping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    for name in sorted(stored):
        c = stored[name]
        kept += [
            "",
            f"[{CALIBRATION}.{json.dumps(name)}]",
            f"scale = {c.scale!r}",
            f"reps = {c.reps}",
            f"date = {json.dumps(c.date)}",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(kept).lstrip("\n") + "\n")
    return combined


PLAN = "plan"
_PLAN_HOW = 'write e.g. [plan."Ana"] then 400 = "100:11.5,200:24,400:50" or 600 = "even:93"'


def plans(path: Path) -> dict[str, dict[float, Plan]]:
    """Athlete -> rep distance (m) -> the coach's plan, from the roster file (absent: none).

    Anything wrong is one ConfigError line naming the file, the athlete and the key.
    """
    data = _read(path)
    table = data.get(PLAN, {})
    if not isinstance(table, dict):
        raise ConfigError(f"roster {path}: [plan] must hold one table per athlete; {_PLAN_HOW}")
    out: dict[str, dict[float, Plan]] = {}
    for name, entries in table.items():
        if not isinstance(entries, dict):
            raise ConfigError(
                f"roster {path}: plan of {name!r} must be a table of rep distances; {_PLAN_HOW}"
            )
        out[name] = {}
        for key, text in entries.items():
            where = f"roster {path}: [plan.{json.dumps(name)}] {key}"
            distance = _rep_distance(key, where)
            if not isinstance(text, str):
                raise ConfigError(f"{where} must be a plan's text in quotes; {_PLAN_HOW}")
            out[name][distance] = _plan_for(text, distance, where)
    return out


def _rep_distance(key: str, where: str) -> float:
    lo, hi = REP_DISTANCE_RANGE_M
    try:
        distance = float(key)
    except ValueError:
        distance = math.nan
    if not (math.isfinite(distance) and lo <= distance <= hi):
        raise ConfigError(
            f"{where}: the key must be the rep distance in metres, {lo:g}..{hi:g}; {_PLAN_HOW}"
        )
    return distance


def _plan_for(text: str, distance: float, where: str) -> Plan:
    """The plan ``text`` for reps of ``distance``; a bare ``even:S`` is over ``distance``."""
    try:
        plan = Plan.parse(text)
        if plan.distance_m <= distance:  # a bare even:S is over the rep, as --plan's
            plan = Plan.for_rep(text, distance)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    if not math.isclose(plan.distance_m, distance, abs_tol=1e-6):
        raise ConfigError(
            f"{where}: the plan ends at {plan.distance_m:g} m, a plan for the "
            f"{distance:g}s must end at {distance:g} m (its last checkpoint)"
        )
    return plan


def today() -> str:
    return Date.today().isoformat()
