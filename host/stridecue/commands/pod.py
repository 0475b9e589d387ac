"""``stridecue pod ACTION LINK``: look after a pod itself, over BLE or USB.

A command group: each action is one subparser with its own ``run`` function,
added by an ``_add_*`` function listed in ``ACTIONS``. ``bonds`` lists the hosts
the pod keeps BLE bonds for; ``forget`` makes it forget one of them, or all.
Over BLE only a bonded host may ask; over USB (``serial:``) anyone with the cable.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from stridecue.errors import ConfigError, LinkError
from stridecue.links import BleOptions, LinkOptions, SerialOptions, open_link
from stridecue.links.podlink import PodLink

T = TypeVar("T")
_ADDRESS_TYPES = {0: "public", 1: "random"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pod",
        help="look after a pod: its BLE bonds",
        description="Look after a pod itself over ble:NAME or serial:PORT.",
    )
    actions = p.add_subparsers(dest="pod_command", metavar="ACTION", required=True)
    for add in ACTIONS:
        add(actions)


def pod_options(spec: str) -> LinkOptions:
    """Link settings for one short exchange: no time sync, no reconnect."""
    scheme = spec.partition(":")[0]
    if scheme == "ble":
        return BleOptions(time_sync_rounds=0, reconnect=False)
    if scheme == "serial":
        return SerialOptions(time_sync_rounds=0)
    raise LinkError(f"{spec!r}: a pod is reached as ble:NAME-or-ADDRESS or serial:PORT")


def with_pod(spec: str, job: Callable[[PodLink], Awaitable[T]]) -> T:
    """Connect to the pod, run ``job`` on the link, close it."""

    async def run() -> T:
        link = open_link(spec, pod_options(spec))
        assert isinstance(link, PodLink)
        await link.connect()
        try:
            return await job(link)
        finally:
            await link.close()

    return asyncio.run(run())


# ---- bonds ----
def _add_bonds(actions: Any) -> None:
    p = actions.add_parser(
        "bonds",
        help="list the hosts the pod keeps BLE bonds for",
        description="List the hosts bonded with the pod (they may receive strides and cue).",
    )
    p.add_argument("link", metavar="LINK", help="the pod: ble:NAME-or-ADDRESS or serial:PORT")
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
    p = actions.add_parser("forget", help=FORGET_HELP, description=FORGET_HELP + FORGET_MORE)
    p.add_argument("link", metavar="LINK", help="the pod: ble:NAME-or-ADDRESS or serial:PORT")
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


ACTIONS: tuple[Callable[[Any], None], ...] = (_add_bonds, _add_forget)
