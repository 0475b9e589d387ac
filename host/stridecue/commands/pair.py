"""``stridecue pair ble:POD``: bond with a pod in pairing mode."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from stridecue.errors import LinkError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pair",
        help="bond with a pod (hold its button until it buzzes first)",
        description=(
            "Bond this computer with a pod so it may receive strides and send cues. "
            "Put the pod in pairing mode first: hold its button until it buzzes "
            "(the window lasts 60 s)."
        ),
    )
    p.add_argument("link", metavar="ble:NAME-or-ADDRESS", help="the pod, e.g. ble:StrideCue-EE01")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to look for it (10)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scheme, _, target = args.link.partition(":")
    if scheme != "ble" or not target:
        raise LinkError(
            f"{args.link!r}: only Bluetooth pods are paired; write ble:NAME-or-ADDRESS "
            "(serial links need no pairing)"
        )
    from stridecue.links.ble import pair

    address = asyncio.run(pair(target, args.timeout))
    print(f"bonded with {target} ({address}); connect with: stridecue live ble:{target}")
    return 0
