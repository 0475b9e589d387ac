"""``stridecue scan``: the pods in range (StrideCue pods and standard RSC foot pods)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from stridecue.errors import ConfigError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "scan",
        help="list the pods in range: name, address, signal, battery",
        description=(
            "Scan for pods advertising the StrideCue service (and, unless --no-rsc, "
            "standard Running Speed and Cadence foot pods). The battery is read from "
            "each pod's open Battery service (a short connection per pod)."
        ),
    )
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to listen (5)")
    p.add_argument("--no-rsc", action="store_true", help="StrideCue pods only")
    p.add_argument("--no-battery", action="store_true", help="do not connect to read batteries")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0.5 <= args.timeout <= 120:
        raise ConfigError(f"--timeout={args.timeout:g} is out of range: allowed 0.5..120 s")
    from stridecue.links.ble import scan

    found = asyncio.run(scan(args.timeout, rsc=not args.no_rsc, battery=not args.no_battery))
    if not found:
        print(f"no pods found in {args.timeout:g} s: is the pod on and within a few metres?")
        return 1
    print(f"{'name':<20} {'address':<18} {'RSSI':>5} {'battery':>7}  kind")
    for f in found:
        bat = "-" if f.battery_pct is None else f"{f.battery_pct}%"
        kind = "RSC only (no cues)" if f.rsc_only else "StrideCue"
        print(f"{f.name[:20]:<20} {f.address:<18} {f.rssi:>5} {bat:>7}  {kind}")
    print(f"\nconnect with: stridecue live ble:{found[0].name or found[0].address}")
    return 0
