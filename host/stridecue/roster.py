"""The roster: which athlete wears which pod.

A TOML file, one line per pod; the key is whatever names the pod (its BLE name,
its address, a serial port, or a recorded pod id) and the value the athlete::

    "StrideCue-EE01" = "Ana"
    "AA:BB:CC:DD:EE:02" = "Ben"
    "/dev/ttyACM0" = "Cleo"
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

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
        raise ConfigError(f'roster {path}: {e}; each line is "POD" = "ATHLETE"') from None
    out: dict[str, str] = {}
    for pod, name in data.items():
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
