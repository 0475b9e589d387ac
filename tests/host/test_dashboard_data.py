"""A recorded practice for the dashboard, report and export tests, written by the real Recorder.

``write_session`` records what a practice with N athletes would leave on disk: every
stride as the pod's 18-byte record (encoded by the firmware's own encoder) with its
host receive time, status records (battery), the cues the host sent, and coach marks.
Each athlete jogs, runs reps with the usual fatigue (stride length falling over the
last 100 m), and walks back between reps. The tests below check the writer itself
against the session reader, so the other tests build on a known-good session.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

from stridecue import firmware
from stridecue.links.base import Channel, PodInfo, Received, decode_pod_frame
from stridecue.protocol import Cue
from stridecue.protocol.records import Pattern
from stridecue.recorder import Recorder
from stridecue.session import Session

START_NS = 1_795_000_000 * 10**9  # a fixed wall-clock start, for reproducible files
NAMES = ("Ada", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana")


@dataclass(frozen=True)
class Bout:
    distance_m: float
    cadence_spm: float
    stride_length_m: float
    fade_last_m: float = 0.0  # stride length falls linearly over this many final metres
    fade_pct: float = 0.0


def practice(reps: int, rep_m: float, speed_mps: float) -> list[Bout]:
    """Jog, then ``reps`` x ``rep_m`` at ``speed_mps`` with walk recoveries."""
    cadence = 196.0
    stride = speed_mps * 120.0 / cadence
    bouts = [Bout(40.0, 150.0, 1.5)]
    for _ in range(reps):
        bouts.append(Bout(rep_m, cadence, stride, fade_last_m=100.0, fade_pct=12.0))
        bouts.append(Bout(35.0, 112.0, 1.4))
    return bouts


def strides_of(bouts: list[Bout], seed: int) -> list[tuple[int, int, int, int]]:
    """(t_contact_ms, stride_ms, contact_ms, length_mm) for every stride of the bouts."""
    rng = random.Random(seed)
    out = []
    t_ms = 1000.0
    for b in bouts:
        run = 0.0
        while run < b.distance_m:
            left = b.distance_m - run
            fade = 0.0
            if b.fade_last_m and left < b.fade_last_m:
                fade = b.fade_pct / 100.0 * (1.0 - left / b.fade_last_m)
            st = 120.0 / b.cadence_spm * (1.0 + rng.gauss(0.0, 0.015))
            sl = b.stride_length_m * (1.0 - fade) * (1.0 + rng.gauss(0.0, 0.015))
            t_ms += st * 1000.0
            run += sl
            out.append((int(t_ms), int(st * 1000), int(st * 1000 * 0.32), int(sl * 1000)))
    return out


def write_session(
    root: Path,
    *,
    athletes: int = 3,
    reps: int = 2,
    rep_m: float = 200.0,
    stagger_s: float = 0.0,
    label: str = "practice",
) -> Path:
    """Record a practice into ``root/label`` and return the folder."""
    proto = firmware.load("proto")
    buf = bytearray(32)
    names = {f"pod-{NAMES[k].lower()}": NAMES[k] for k in range(athletes)}
    path = root / label
    rec = Recorder(path, athletes=names, settings={"test": True})
    rec.meta["start_ns"] = START_NS
    latency_ns = 25_000_000
    for k, pod in enumerate(names):
        offset_ms = START_NS / 1e6 + 1000.0 * k * stagger_s
        info = PodInfo(pod=pod, name=f"StrideCue-{k:04X}", firmware="1.0.0")
        info.clock_offset_ms = offset_ms
        rec.add_pod(info, link=f"sim:{pod}", athlete=names[pod])
        n = proto.encode_status(buf, 90 - 5 * k, 0, 2, 5, 0, 0, (1, 0, 0), 1)
        raw = bytes(buf[:n])
        rec.write(Received(pod, START_NS, Channel.POD, raw, decode_pod_frame(raw)))
        bouts = practice(reps, rep_m, speed_mps=5.5 + 0.25 * k)
        for seq, (t_ms, st, ct, sl) in enumerate(strides_of(bouts, seed=k)):
            n = proto.encode_stride(buf, seq, t_ms, st, ct, sl, 0)
            raw = bytes(buf[:n])
            host_ns = int((t_ms + offset_ms) * 1e6) + latency_ns
            rec.write(Received(pod, host_ns, Channel.POD, raw, decode_pod_frame(raw)))
            if seq == 60:  # the coach cued this athlete by hand once
                cue = Cue(Pattern.PULSE, 100, 1, 400)
                rec.write_sent(pod, Channel.CUE, bytes(cue), host_ns + 1_000_000)
                rec.mark("lap", athlete=pod, host_ns=host_ns + 2_000_000)
    rec.close()
    return path


def test_written_session_reads_back(tmp_path: Path) -> None:
    path = write_session(tmp_path, athletes=2, reps=1)
    s = Session.open(path)
    assert s.athletes == {"pod-ada": "Ada", "pod-ben": "Ben"}
    assert not s.bad_tails
    for k, ff in enumerate(s.files.values()):
        kinds = [f.raw[0] for f in ff.frames if f.channel == Channel.POD]
        assert kinds.count(0x01) == len(strides_of(practice(1, 200.0, 5.5 + 0.25 * k), seed=k))
        assert kinds.count(0x02) == 1  # one status
        assert [f.channel for f in ff.frames].count(Channel.CUE) == 1
    assert [m.text for m in s.marks()] == ["lap", "lap"]


def test_practice_distance_and_fade() -> None:
    strides = strides_of([Bout(200.0, 196.0, 3.6, fade_last_m=100.0, fade_pct=12.0)], seed=1)
    lengths = [s[3] / 1000 for s in strides]
    assert 200.0 <= sum(lengths) < 200.0 + 4.0
    early = sum(lengths[5:15]) / 10
    late = sum(lengths[-5:]) / 5
    assert math.isclose(late / early, 0.88, abs_tol=0.05)
