"""Replay throughput and host latency (not a timed test; results go in docs/host.md).

1. Generates a 2 h practice of 8 athletes (reps at speed, jogged recoveries; one
   stride record per stride, a status every 10 s) and records it with the real
   Recorder into a session folder.
2. Replays it as fast as possible on one core and reports strides/s for:
   - decode: read + check every stored frame (CRC-32), decode every record
     (``Session.items``, the one reader of a session folder);
   - decode + analysis: the same, each stride through its athlete's Analyzer and
     CuePolicy (stridecue.analysis);
   - the async pipeline: the ``replay:`` link feeding ``Practice`` (recording off,
     analysis and cue decisions on), as ``stridecue replay --fast`` runs it.
3. Latency from frame arrival to cue write, per record, over a real pty with real
   pyserial: a pod peer sends strides every 5 ms; for each one the host stamps the
   arrival (in the serial reader thread), decodes, analyses, and writes a cue
   frame back; reported as p50 / p99 / max.

Run: python3 benchmarks/replay_throughput.py [--hours 2] [--athletes 8] [--latency-n 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from stridecue.analysis import Analyzer, CuePolicy
from stridecue.links import Channel, PodInfo, ReplayOptions, SerialOptions, open_link
from stridecue.practice import Practice, latency_ms
from stridecue.protocol import Cue, Status, StrideEvent, encode_frame
from stridecue.protocol.framing import FrameDecoder
from stridecue.protocol.records import Pattern
from stridecue.recorder import Recorder
from stridecue.session import Session

T0_NS = 1_764_000_000_000_000_000
# CPU time of this process: strides per second of one core, whatever else the
# machine is running (wall time is printed alongside for the whole run)
CLOCK = time.process_time


def generate(root: Path, hours: float, athletes: int, seed: int = 1) -> tuple[Path, int]:
    """A recorded session: per athlete reps of 60-90 s at speed, 90-120 s jogging between."""
    rng = random.Random(seed)
    path = root / "bench-session"
    strides = 0
    with Recorder(path, athletes={f"pod{k}": f"Athlete {k}" for k in range(athletes)}) as rec:
        for k in range(athletes):
            pod = f"pod{k}"
            rec.add_pod(PodInfo(pod=pod, firmware="0.1.0"), f"ble:StrideCue-{k:04X}")
            t_ms = 0
            seq = 1
            next_status = 0
            end_ms = int(hours * 3600_000)
            fast = True
            phase_end = rng.randint(60_000, 90_000)
            fade = 0.0
            while t_ms < end_ms:
                if t_ms >= phase_end:
                    fast = not fast
                    phase_end = t_ms + (rng.randint(60_000, 90_000) if fast else 100_000)
                    fade = 0.0
                base_st, base_len = (650, 3600) if fast else (850, 1600)
                if fast:
                    fade += 0.0015
                st = int(base_st * (1 + fade * 0.5) + rng.gauss(0, 8))
                ln = int(base_len * (1 - fade) + rng.gauss(0, 40))
                ct = int(st * (0.28 if fast else 0.4))
                t_ms += st
                raw = bytes(StrideEvent(seq, t_ms, st, ct, max(ln, 100)))
                host = T0_NS + t_ms * 1_000_000 + rng.randint(3, 40) * 1_000_000
                rec.write_sent(pod, Channel.POD, raw, host)
                seq += 1
                strides += 1
                if t_ms >= next_status:
                    st_raw = bytes(Status(90, 0, 4, 5, 0, seq - 1, (0, 1, 0), t_ms // 60000))
                    rec.write_sent(pod, Channel.POD, st_raw, host + 1)
                    next_status = t_ms + 10_000
    return path, strides


def bench_decode(path: Path) -> tuple[float, int]:
    t = CLOCK()
    n = 0
    session = Session.open(path)
    for item in session.items():
        if item.raw[0] == 1:
            n += 1
    return n / (CLOCK() - t), n


def bench_decode_analysis(path: Path) -> tuple[float, int, int]:
    t = CLOCK()
    n = 0
    cues = 0
    analyzers: dict[str, tuple[Analyzer, CuePolicy]] = {}
    session = Session.open(path)
    for item in session.items():
        rec = item.record
        if not isinstance(rec, StrideEvent):
            continue
        n += 1
        pair = analyzers.get(item.pod)
        if pair is None:
            pair = analyzers[item.pod] = (Analyzer(), CuePolicy())
        a, p = pair
        t_s = rec.t_contact_ms / 1000.0
        events = a.feed_values(
            t_s,
            rec.stride_time_ms / 1000.0,
            rec.stride_length_mm / 1000.0,
            rec.contact_time_ms / 1000.0,
            rec.seq,
        )
        for d in p.update(t_s, events):
            cues += d.action == "send"
    return n / (CLOCK() - t), n, cues


async def bench_pipeline(path: Path) -> tuple[float, int, int]:
    link = open_link(f"replay:{path}", ReplayOptions(speed=0))
    practice = Practice([link])
    t = CLOCK()
    await practice.connect()
    await practice.run()
    el = CLOCK() - t
    n = sum(r.strides for r in practice.rows.values())
    return n / el, n, sum(r.cues for r in practice.rows.values())


async def bench_latency(n: int, period_s: float = 0.005) -> tuple[float, float, float, int]:
    """Arrival → cue written, per stride, over a pty with pyserial on the host side."""
    master, slave = os.openpty()
    port = os.ttyname(slave)
    os.close(slave)
    os.set_blocking(master, False)
    loop = asyncio.get_running_loop()
    got_cues = 0
    dec = FrameDecoder()

    def readable() -> None:
        nonlocal got_cues
        with contextlib.suppress(OSError):
            for rec in dec.feed(os.read(master, 4096)):
                got_cues += rec[0] == 0x03

    loop.add_reader(master, readable)
    link = open_link(f"serial:{port}", SerialOptions(time_sync_rounds=0))
    await link.connect()
    analyzer, policy = Analyzer(), CuePolicy()
    lat: list[int] = []
    cue = Cue(Pattern.PULSE, 80, 1, 100)

    async def host() -> None:
        async for item in link.records():
            rec = item.record
            if not isinstance(rec, StrideEvent):
                continue
            t_s = rec.t_contact_ms / 1000.0
            events = analyzer.feed_values(
                t_s, rec.stride_time_s, rec.stride_length_m, rec.contact_time_s, rec.seq
            )
            policy.update(t_s, events)
            await link.write_cue(cue)  # every stride: the worst case, a cue each time
            lat.append(time.time_ns() - item.host_ns)
            if len(lat) == n:
                return

    task = asyncio.create_task(host())
    gc.collect()
    for seq in range(1, n + 1):
        raw = bytes(StrideEvent(seq, seq * 700, 700, 200, 2400))
        os.write(master, encode_frame(raw))
        await asyncio.sleep(period_s)
    await asyncio.wait_for(task, 30)
    await link.close()
    loop.remove_reader(master)
    os.close(master)
    p50, p99 = latency_ms(lat)
    return p50, p99, max(lat) / 1e6, got_cues


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--athletes", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    ap.add_argument("--latency-n", type=int, default=3000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="stridecue-bench-") as tmp:
        t = time.perf_counter()
        path, strides = generate(Path(tmp), args.hours, args.athletes)
        size = sum(f.stat().st_size for f in (path / "pods").iterdir())
        print(
            f"session: {args.hours:g} h x {args.athletes} athletes = {strides} strides, "
            f"{size / 1e6:.1f} MB on disk (generated in {time.perf_counter() - t:.1f} s)"
        )
        dec = max(bench_decode(path)[0] for _ in range(args.repeat))
        print(f"decode (read, CRC-check, decode):       {dec:>10,.0f} strides/s")
        best = max((bench_decode_analysis(path) for _ in range(args.repeat)), key=lambda r: r[0])
        print(
            f"decode + analysis + cue policy:          {best[0]:>10,.0f} strides/s ({best[2]} cues)"
        )
        pipe = max(
            (asyncio.run(bench_pipeline(path)) for _ in range(args.repeat)), key=lambda r: r[0]
        )
        print(
            f"async pipeline (replay: + Practice):    {pipe[0]:>10,.0f} strides/s ({pipe[2]} cues)"
        )
    p50, p99, worst, cues = asyncio.run(bench_latency(args.latency_n))
    print(
        f"frame arrival -> cue write over a pty ({args.latency_n} strides, 5 ms apart, "
        f"a cue for each): p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms; "
        f"{cues} cue frames reached the pod side"
    )
    print(f"python {sys.version.split()[0]}, one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
