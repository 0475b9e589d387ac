"""Typed link options: one frozen dataclass per scheme, checked where it is made."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from stridecue.errors import LinkError
from stridecue.links import (
    BleOptions,
    ReplayOptions,
    SerialOptions,
    SimOptions,
    open_link,
)
from stridecue.links.replay import ReplayLink
from stridecue.links.serial import SerialLink
from stridecue.links.sim import SimLink


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: BleOptions(scan_timeout_s=0), r"BleOptions: scan_timeout_s=0 .*time > 0 s"),
        (lambda: BleOptions(connect_timeout_s=-1), r"connect_timeout_s=-1 .*time > 0 s"),
        (lambda: BleOptions(attempts=0), r"BleOptions: attempts=0 .*use 1 or more"),
        (lambda: BleOptions(backoff_s=0), r"backoff_s=0 .*delay > 0 s"),
        (
            lambda: BleOptions(backoff_s=2, max_backoff_s=1),
            r"max_backoff_s=1 .*at least backoff_s \(2 s\)",
        ),
        (lambda: BleOptions(time_sync_rounds=-1), r"time_sync_rounds=-1 .*0 \(no time sync\)"),
        (lambda: SerialOptions(baudrate=0), r"SerialOptions: baudrate=0 .*115200"),
        (lambda: SerialOptions(time_sync_rounds=51), r"time_sync_rounds=51 .*to 50 exchanges"),
        (lambda: SerialOptions(keepalive_s=0), r"keepalive_s=0 .*0 < keepalive_s < 30"),
        (lambda: SerialOptions(keepalive_s=30), r"keepalive_s=30 .*forgets a silent host"),
        (lambda: SimOptions(speed=-1), r"SimOptions: speed=-1 .*0 \(flat out\)"),
        (lambda: SimOptions(speed=1001), r"speed=1001 .*up to 1000"),
        (lambda: SimOptions(seed=-3), r"seed=-3 .*whole number >= 0"),
        (lambda: SimOptions(keepalive_s=45), r"SimOptions: keepalive_s=45 .*< 30"),
        (lambda: ReplayOptions(speed=-0.5), r"ReplayOptions: speed=-0.5 is negative; use 0"),
    ],
)
def test_out_of_range_is_refused_saying_what_to_use(make: Callable[[], object], match: str) -> None:
    with pytest.raises(LinkError, match=match):
        make()


def test_options_are_frozen_and_keyword_only() -> None:
    opts = SerialOptions(reconnect=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.reconnect = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        SerialOptions(9600)  # type: ignore[misc]


def test_another_schemes_options_are_refused_naming_the_right_class() -> None:
    with pytest.raises(LinkError, match=r"'serial:/dev/ttyACM0' takes SerialOptions, not Ble"):
        open_link("serial:/dev/ttyACM0", BleOptions())
    with pytest.raises(LinkError, match=r"takes ReplayOptions, not SerialOptions"):
        open_link("replay:somewhere", SerialOptions())
    with pytest.raises(LinkError, match=r"takes SimOptions, not SerialOptions"):
        open_link("sim:steady", SerialOptions())  # a sim link is serial inside, not outside


def test_each_link_gets_its_options_or_the_defaults() -> None:
    link = open_link("serial:/dev/ttyACM0", SerialOptions(reconnect=True, keepalive_s=5))
    assert isinstance(link, SerialLink)
    assert link.options.reconnect and link.options.keepalive_s == 5
    assert link.time_sync_rounds == 5
    plain = open_link("serial:/dev/ttyACM0")
    assert isinstance(plain, SerialLink) and plain.options == SerialOptions()
    replay = open_link("replay:x", ReplayOptions(speed=0, include_sent=True))
    assert isinstance(replay, ReplayLink) and replay.speed == 0 and replay.include_sent


def test_sim_options_and_the_spec() -> None:
    link = open_link("sim:steady,speed_mps=5", SimOptions(speed=4, seed=3, time_sync_rounds=0))
    assert isinstance(link, SimLink)
    assert (link.speed, link.seed, link.params) == (4, 3, {"speed_mps": 5.0})
    assert not link.options.reconnect and link.time_sync_rounds == 0  # a board does not return
    spec_wins = open_link("sim:steady,speed=10", SimOptions(speed=4))
    assert isinstance(spec_wins, SimLink) and spec_wins.speed == 10
