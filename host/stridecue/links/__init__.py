"""Links to pods, picked by a name string: ``ble:``, ``serial:``, ``replay:``, ``sim:``.

``open_link(spec)`` returns an unconnected :class:`Link`; ``await link.connect()``
then ``async for item in link.records()``. Each scheme's module is imported only
when used, so ``replay:`` works without a Bluetooth stack.
"""

from __future__ import annotations

import importlib
from typing import Any

from stridecue.errors import LinkError
from stridecue.links.base import Channel, Link, LinkState, PodInfo, Received

__all__ = ["SCHEMES", "Channel", "Link", "LinkState", "PodInfo", "Received", "open_link"]

# scheme -> (module, class, what the target is)
SCHEMES: dict[str, tuple[str, str, str]] = {
    "ble": ("stridecue.links.ble", "BleLink", "NAME-or-ADDRESS"),
    "serial": ("stridecue.links.serial", "SerialLink", "PORT"),
    "replay": ("stridecue.links.replay", "ReplayLink", "SESSION"),
    "sim": ("stridecue.links.sim", "SimLink", "SCENARIO"),
}


def usage() -> str:
    return ", ".join(f"{s}:{what}" for s, (_, _, what) in SCHEMES.items())


def open_link(spec: str, **options: Any) -> Link:
    """The link named by ``spec``, e.g. ``ble:StrideCue-1A2B`` or ``serial:/dev/ttyACM0``."""
    scheme, sep, target = spec.partition(":")
    if not sep or scheme not in SCHEMES:
        raise LinkError(f"unknown link {spec!r}: use one of {usage()}")
    if not target:
        raise LinkError(
            f"link {spec!r} names no {SCHEMES[scheme][2]}: write {scheme}:{SCHEMES[scheme][2]}"
        )
    module, cls, _ = SCHEMES[scheme]
    link_cls = getattr(importlib.import_module(module), cls)
    link: Link = link_cls(spec, target, **options)
    return link
