"""Links to pods, picked by a name string: ``ble:``, ``serial:``, ``replay:``, ``sim:``.

``open_link(spec)`` returns an unconnected :class:`Link`; ``await link.connect()``
then ``async for item in link.records()``. Settings go in the scheme's own typed
options, e.g. ``open_link("serial:/dev/ttyACM0", SerialOptions(reconnect=True))``.
Each scheme's module is imported only when used, so ``replay:`` works without a
Bluetooth stack.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

from stridecue.errors import LinkError
from stridecue.links.base import Channel, Link, LinkState, PodInfo, Received
from stridecue.links.options import (
    BleOptions,
    LinkOptions,
    ReplayOptions,
    SerialOptions,
    SimOptions,
)

__all__ = [
    "SCHEMES",
    "BleOptions",
    "Channel",
    "Link",
    "LinkOptions",
    "LinkState",
    "PodInfo",
    "Received",
    "ReplayOptions",
    "SerialOptions",
    "SimOptions",
    "open_link",
]


class Scheme(NamedTuple):
    module: str
    cls: str
    target: str  # what follows the colon
    options: type[LinkOptions]


SCHEMES: dict[str, Scheme] = {
    "ble": Scheme("stridecue.links.ble", "BleLink", "NAME-or-ADDRESS", BleOptions),
    "serial": Scheme("stridecue.links.serial", "SerialLink", "PORT", SerialOptions),
    "replay": Scheme("stridecue.links.replay", "ReplayLink", "SESSION", ReplayOptions),
    "sim": Scheme("stridecue.links.sim", "SimLink", "SCENARIO", SimOptions),
}


def usage() -> str:
    return ", ".join(f"{s}:{scheme.target}" for s, scheme in SCHEMES.items())


def open_link(spec: str, options: LinkOptions | None = None) -> Link:
    """The link named by ``spec``, e.g. ``ble:StrideCue-1A2B`` or ``serial:/dev/ttyACM0``.

    ``options`` are the scheme's own (``BleOptions`` for ``ble:``, ...); None: defaults.
    """
    name, sep, target = spec.partition(":")
    if not sep or name not in SCHEMES:
        raise LinkError(f"unknown link {spec!r}: use one of {usage()}")
    scheme = SCHEMES[name]
    if not target:
        raise LinkError(f"link {spec!r} names no {scheme.target}: write {name}:{scheme.target}")
    if options is not None and not isinstance(options, scheme.options):
        raise LinkError(
            f"link {spec!r} takes {scheme.options.__name__}, not {type(options).__name__}: "
            f"open_link({spec!r}, {scheme.options.__name__}(...))"
        )
    link_cls = getattr(importlib.import_module(scheme.module), scheme.cls)
    link: Link = link_cls(spec, target, options)
    return link
