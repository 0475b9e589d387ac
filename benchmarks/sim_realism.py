"""How real does the virtual athlete look? Simulator vs the PyShoe Vicon recordings.

For every PyShoe trial with stride annotations (11 walking, 8 running with annotations),
the simulator runs the same gait at the trial's own median stride time and stride
length (Vicon), sampled like the MicroStrain 3DM-GX5-25 (200 Hz, accelerometer
clipping at 8 g, gyro near 9.6 rad/s per axis). Both recordings then go through the
same measurements, from the signals alone:

* per stride peak |acc| and peak |gyro| (medians over strides; fraction clipped);
* stance: samples with |gyro| < 1 rad/s and | |acc| - g | < 2 m/s^2, per stride (ms);
* shape: |gyro| and |acc| over a stride, time-normalised between stance centres,
  mean curve and its correlation with the recording's.

    python3 benchmarks/sim_realism.py [--data ../shared/data] [--plot docs/figures/sim_realism.png]

prints a Markdown table (docs/simulator.md) and writes the figure.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np
import scipy.io as sio
from stridecue.sim import scenarios, strides
from stridecue.sim.foot import GRAVITY, Bout, StrideSpec
from stridecue.sim.imu import ImuConfig, Recording, simulate

ROOT = Path(__file__).resolve().parents[1]
N_BINS = 100
GYR_STILL = 1.0  # rad/s
ACC_STILL = 2.0  # m/s^2 off 1 g


def load_trial(data: Path, name: str) -> dict[str, np.ndarray] | None:
    csv = (
        data
        / "pyshoe_vicon/stride_annotations_mtahakoroglu"
        / f"{name}_strideIndex_timestamp_gcpX_gcpY.csv"
    )
    if not csv.is_file():
        return None
    m = sio.loadmat(data / "pyshoe_vicon/mat" / f"{name}.mat")
    idx = np.loadtxt(csv, delimiter=",", skiprows=1)[:, 0].astype(int)
    ts, gt = m["ts"].ravel(), m["gt"]
    lengths = np.linalg.norm(np.diff(gt[idx, :2], axis=0), axis=1)
    times = np.diff(ts[idx])
    return {
        "acc": m["imu"][:, :3],
        "gyr": m["imu"][:, 3:],
        "t": ts - ts[0],
        "L": lengths,
        "T": times,
    }


def stances(acc: np.ndarray, gyr: np.ndarray, rate: float) -> list[tuple[int, int]]:
    still = (np.linalg.norm(gyr, axis=1) < GYR_STILL) & (
        np.abs(np.linalg.norm(acc, axis=1) - GRAVITY) < ACC_STILL
    )
    # close gaps shorter than 20 ms, drop runs shorter than 15 ms
    out: list[tuple[int, int]] = []
    k, n = 0, len(still)
    while k < n:
        if not still[k]:
            k += 1
            continue
        j = k
        while j < n and still[j]:
            j += 1
        if out and k - out[-1][1] < 0.02 * rate:
            out[-1] = (out[-1][0], j)
        else:
            out.append((k, j))
        k = j
    return [(a, b) for a, b in out if b - a >= 0.015 * rate]


def measure(acc: np.ndarray, gyr: np.ndarray, rate: float, acc_clip: float) -> dict[str, object]:
    st = [(a, b) for a, b in stances(acc, gyr, rate) if (b - a) < 1.5 * rate]
    an, gn = np.linalg.norm(acc, axis=1), np.linalg.norm(gyr, axis=1)
    centres = [(a + b) // 2 for a, b in st]
    peaks_a, peaks_g, clipped, curves_a, curves_g, still_ms = [], [], [], [], [], []
    for (a0, b0), c0, c1 in zip(st[:-1], centres[:-1], centres[1:], strict=True):
        if not 0.4 * rate < c1 - c0 < 2.0 * rate:
            continue  # a pause or a missed stance
        seg = slice(c0, c1)
        peaks_a.append(an[seg].max())
        peaks_g.append(gn[seg].max())
        clipped.append(np.abs(acc[seg]).max() >= acc_clip * 0.98)
        x = np.linspace(0, 1, c1 - c0)
        grid = np.linspace(0, 1, N_BINS)
        curves_a.append(np.interp(grid, x, an[seg]))
        curves_g.append(np.interp(grid, x, gn[seg]))
        still_ms.append((b0 - a0) / rate * 1000.0)
    return {
        "n": len(peaks_a),
        "peak_acc": float(np.median(peaks_a)) if peaks_a else math.nan,
        "peak_gyr": float(np.median(peaks_g)) if peaks_g else math.nan,
        "clipped": float(np.mean(clipped)) if clipped else math.nan,
        "still_ms": float(np.median(still_ms)) if still_ms else math.nan,
        "curve_acc": np.mean(curves_a, axis=0) if curves_a else np.zeros(N_BINS),
        "curve_gyr": np.mean(curves_g, axis=0) if curves_g else np.zeros(N_BINS),
    }


def simulate_like(
    stride_s: float, length_m: float, walking: bool, seed: int, bandwidth_hz: float
) -> Recording:
    speed = length_m / stride_s
    contact = 0.62 * stride_s if walking else scenarios.default_contact_s(speed)
    p = strides.Profile("match", stride_s, length_m, contact)
    seq = strides.steady(np.random.default_rng(seed), p, 30).strides
    specs = tuple(
        StrideSpec(
            s.stride_time_s, min(s.contact_time_s / s.stride_time_s, 0.75), s.stride_length_m
        )
        for s in seq
    )
    cfg = ImuConfig(
        rate_hz=200.0,
        acc_range_g=8.0,
        gyro_range_dps=550.0,
        mount_pitch_deg=-20.0,
        mount_roll_deg=180.0,
        bandwidth_hz=bandwidth_hz,
    )
    return simulate([Bout(specs, rest_s=1.0)], cfg, seed=seed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("STRIDECUE_DATA", ROOT.parent / "shared/data")),
    )
    ap.add_argument("--plot", type=Path, default=ROOT / "docs/figures/sim_realism.png")
    ap.add_argument(
        "--bandwidth-hz",
        type=float,
        default=0.0,
        help="low-pass the simulated sensor (the real sensor's bandwidth is not documented)",
    )
    args = ap.parse_args()
    mats = sorted((args.data / "pyshoe_vicon/mat").glob("*.mat"))
    if not mats:
        print(f"no PyShoe recordings under {args.data}/pyshoe_vicon; set --data", file=sys.stderr)
        return 2
    rows = []
    groups: dict[str, dict[str, list[np.ndarray]]] = {}
    for k, mat in enumerate(mats):
        tr = load_trial(args.data, mat.stem)
        if tr is None:
            continue
        walking = mat.stem.startswith("2017-11-22") or mat.stem.startswith("2017-12-15")
        kind = "walk" if walking else "run"
        T, L = float(np.median(tr["T"])), float(np.median(tr["L"]))
        real = measure(tr["acc"], tr["gyr"], 200.0, 8 * GRAVITY)
        rec = simulate_like(T, L, walking, seed=k, bandwidth_hz=args.bandwidth_hz)
        sim = measure(rec.acc, rec.gyr, 200.0, 8 * GRAVITY)
        r_g = float(np.corrcoef(real["curve_gyr"], sim["curve_gyr"])[0, 1])  # type: ignore[arg-type]
        r_a = float(np.corrcoef(real["curve_acc"], sim["curve_acc"])[0, 1])  # type: ignore[arg-type]
        rows.append((mat.stem, kind, L / T, T, real, sim, r_g, r_a))
        g = groups.setdefault(kind, {"ra": [], "sa": [], "rg": [], "sg": []})
        g["ra"].append(real["curve_acc"])  # type: ignore[arg-type]
        g["sa"].append(sim["curve_acc"])  # type: ignore[arg-type]
        g["rg"].append(real["curve_gyr"])  # type: ignore[arg-type]
        g["sg"].append(sim["curve_gyr"])  # type: ignore[arg-type]
    print(table(rows))
    plot(groups, args.plot)
    print(
        f"\nfigure: {args.plot.relative_to(ROOT) if args.plot.is_relative_to(ROOT) else args.plot}"
    )
    return 0


HEAD = (
    "trial",
    "gait",
    "speed m/s",
    "stride s",
    "peak \\|acc\\| m/s² real / sim",
    "clipped at 8 g real / sim",
    "peak \\|gyro\\| rad/s real / sim",
    "still ms per stride real / sim",
    "r(\\|gyro\\| shape)",
    "r(\\|acc\\| shape)",
)


def _cells(
    label: str, kind: str, v: float, t: float, real: dict, sim: dict, rg: float, ra: float
) -> str:  # type: ignore[type-arg]
    pairs = (
        f"{real['peak_acc']:.0f} / {sim['peak_acc']:.0f}",
        f"{real['clipped']:.0%} / {sim['clipped']:.0%}",
        f"{real['peak_gyr']:.1f} / {sim['peak_gyr']:.1f}",
        f"{real['still_ms']:.0f} / {sim['still_ms']:.0f}",
    )
    return (
        "| "
        + " | ".join((label, kind, f"{v:.2f}", f"{t:.2f}", *pairs, f"{rg:.2f}", f"{ra:.2f}"))
        + " |"
    )


def table(rows: list[tuple]) -> str:  # type: ignore[type-arg]
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += [_cells(*r) for r in rows]
    for kind in ("walk", "run"):
        sel = [r for r in rows if r[1] == kind]
        if not sel:
            continue
        keys = ("peak_acc", "clipped", "peak_gyr", "still_ms")
        real = {f: float(np.median([r[4][f] for r in sel])) for f in keys}
        sim = {f: float(np.median([r[5][f] for r in sel])) for f in keys}
        lines.append(
            _cells(
                f"**all {kind}** ({len(sel)})",
                "",
                float(np.median([r[2] for r in sel])),
                float(np.median([r[3] for r in sel])),
                real,
                sim,
                float(np.median([r[6] for r in sel])),
                float(np.median([r[7] for r in sel])),
            )
        )
    return "\n".join(lines)


def plot(groups: dict[str, dict[str, list[np.ndarray]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
    x = np.linspace(0, 100, N_BINS)
    titles = {"walk": "walking, PyShoe 0.8-1.4 m/s", "run": "jogging, PyShoe 1.1-2.1 m/s"}
    for row, kind in enumerate(("walk", "run")):
        g = groups.get(kind)
        if not g:
            continue
        for col, (rk, sk, unit) in enumerate(
            (("rg", "sg", "|gyro| rad/s"), ("ra", "sa", "|acc| m/s²"))
        ):
            ax = axes[row, col]
            real, sim = np.array(g[rk]), np.array(g[sk])
            ax.fill_between(x, real.min(0), real.max(0), color="tab:blue", alpha=0.15, lw=0)
            ax.plot(
                x,
                real.mean(0),
                color="tab:blue",
                label=f"recorded (mean of {len(real)} trials; band: range)",
            )
            ax.fill_between(x, sim.min(0), sim.max(0), color="tab:orange", alpha=0.15, lw=0)
            ax.plot(
                x,
                sim.mean(0),
                color="tab:orange",
                label="simulated at the same stride time and length",
            )
            ax.set_ylabel(unit)
            ax.set_title(f"{titles[kind]}: {unit.split()[0]}", fontsize=10)
            if row == 1:
                ax.set_xlabel("% of stride, from mid-stance to mid-stance")
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle(
        "StrideCue IMU simulator vs real foot-IMU recordings (PyShoe Vicon set)", fontsize=11
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
