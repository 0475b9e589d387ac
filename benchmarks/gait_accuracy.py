"""Gait engine accuracy on real recordings (../shared/data), not a timed test.

PyShoe Vicon (right foot, 200 Hz, 8 g accelerometer): stride detection precision and
recall against the third-party stance annotations, stride length against Vicon
(horizontal distance between successive annotated stances). gaitmap example
(204.8 Hz, both feet): initial-contact and toe-off timing against motion capture.

    python3 benchmarks/gait_accuracy.py [--engine cpython|micropython] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stridecue import engine as eng_mod
from stridecue.imu_files import read_gaitmap_csv, read_pyshoe_mat

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("STRIDECUE_DATA", ROOT.parent / "shared" / "data"))
RUNNING = tuple(
    f"2017-11-27-11-{s}"
    for s in (
        "11-24",
        "11-53",
        "12-18",
        "12-44",
        "13-10",
        "13-41",
        "14-03",
        "14-52",
        "17-28",
        "18-11",
    )
)
MAX_STANCE_S = 1.0  # s; longest foot contact (walking slowly, stopping) for matching
PYSHOE_ACC_G = 8  # MicroStrain 3DM-GX5-25 as recorded: 8 g accelerometer
PYSHOE_GYRO_DPS = 2000  # gyro full scale not documented; no hard plateau in the data


@dataclass
class TrialResult:
    name: str
    kind: str
    n_true: int
    n_found: int
    n_match: int
    err_m: list[float]
    true_m: list[float]

    @property
    def precision(self) -> float:
        return self.n_match / self.n_found if self.n_found else 1.0

    @property
    def recall(self) -> float:
        return self.n_match / self.n_true if self.n_true else 1.0


def pyshoe_truth(
    data_dir: Path, name: str, derive: bool = False
) -> tuple[np.ndarray, np.ndarray] | None:
    """Annotated stance times (s) and Vicon stride lengths (m); None if not annotated.

    With ``derive`` a trial without annotations gets stances from its own
    ``zv_shoe_opt`` labels (zero-velocity detector tuned against Vicon by the dataset
    authors): the last sample of each still segment, segments closer than 0.3 s merged.
    The annotations were made the same way (they match those ends where both exist).
    """
    import scipy.io

    folder = data_dir / "pyshoe_vicon"
    m = scipy.io.loadmat(str(folder / "mat" / f"{name}.mat"))
    ts = m["ts"].ravel()
    gt = m["gt"]
    ann = list((folder / "stride_annotations_mtahakoroglu").glob(f"{name}_*.csv"))
    if ann:
        idx = np.loadtxt(ann[0], delimiter=",", skiprows=1)[:, 0].astype(int)
    elif derive:
        zv = m["zv_shoe_opt"].ravel().astype(int)
        ends = np.flatnonzero(np.diff(np.r_[zv, 0]) == -1)
        keep = [
            e for i, e in enumerate(ends) if i + 1 == len(ends) or ts[ends[i + 1]] - ts[e] > 0.3
        ]
        idx = np.asarray(keep, dtype=int)
    else:
        return None
    idx = idx[idx < len(ts) - 1]  # the last annotation is the end of the file, not a stance
    t = ts[idx] - ts[0]
    lengths = np.linalg.norm(np.diff(gt[idx, :2], axis=0), axis=1)
    return t, lengths


def match(
    strides: list[dict[str, Any]], t_stance: np.ndarray, lengths: np.ndarray, name: str, kind: str
) -> TrialResult:
    """Pair engine strides with annotated ones.

    The annotation marks the last still sample of each stance. Each annotated stance
    belongs to the last engine contact before it (at most MAX_STANCE_S earlier; any
    time for the standing stance a "first" stride starts from). Annotated stride k
    matches engine stride i when its two stances belong to that stride's two contacts.
    """
    slack = 0.03  # s; the contact estimate may fall just after the last still sample
    lo, hi = t_stance[1] - MAX_STANCE_S, t_stance[-1] + slack
    # an engine stride is stamped at the contact that ends it (docs/protocol.md)
    found = [s for s in strides if lo <= s["t_contact_s"] <= hi]
    err, true = [], []
    n_match = 0

    def owner(t: float, start: bool) -> int:
        # index of the stride whose start (or end) contact owns the stance ending at t
        best = -1
        for i, s in enumerate(found):
            c = s["t_contact_s"] - s["stride_time_s"] if start else s["t_contact_s"]
            limit = np.inf if start and "first" in s["flags"] else MAX_STANCE_S
            if c <= t + slack and t - c < limit:
                best = i
        return best

    for k in range(len(lengths)):
        i = owner(float(t_stance[k]), True)
        if i >= 0 and owner(float(t_stance[k + 1]), False) == i:
            n_match += 1
            err.append(found[i]["stride_length_m"] - float(lengths[k]))
            true.append(float(lengths[k]))
    return TrialResult(name, kind, len(lengths), len(found), n_match, err, true)


def run_pyshoe(data_dir: Path, engine: str, derived: bool = False) -> list[TrialResult]:
    """Every annotated trial; with ``derived`` only the trials without annotations."""
    out = []
    for mat in sorted((data_dir / "pyshoe_vicon" / "mat").glob("*.mat")):
        name = mat.stem
        annotated = pyshoe_truth(data_dir, name) is not None
        if annotated == derived:
            continue
        truth = pyshoe_truth(data_dir, name, derive=True)
        assert truth is not None
        data = read_pyshoe_mat(mat)
        strides = eng_mod.run(data, engine, 200, PYSHOE_ACC_G, PYSHOE_GYRO_DPS)  # type: ignore[arg-type]
        kind = "running" if name in RUNNING else "walking"
        out.append(match(strides, truth[0], truth[1], name, kind))
    return out


def summary(rs: list[TrialResult]) -> str:
    nt = sum(r.n_true for r in rs)
    nf = sum(r.n_found for r in rs)
    nm = sum(r.n_match for r in rs)
    e = np.concatenate([r.err_m for r in rs]) if nm else np.zeros(0)
    tr = np.concatenate([r.true_m for r in rs]) if nm else np.ones(0)
    rel = e / tr
    if not nm:
        return f"strides {nt:4d} found {nf:4d} P 0 R 0  (no stride matched)"
    return (
        f"strides {nt:4d} found {nf:4d} P {nm / max(nf, 1):.3f} R {nm / max(nt, 1):.3f}  "
        f"len med|err| {100 * np.median(np.abs(rel)):.2f}% {np.median(np.abs(e)):.3f} m  "
        f"bias {100 * np.mean(rel):+.2f}%  p90|err| {100 * np.percentile(np.abs(rel), 90):.2f}%"
    )


def gaitmap_timing(data_dir: Path, engine: str) -> list[str]:
    import csv

    d = data_dir / "gaitmap_example_walking"
    lines = []
    with (d / "stride_events_sample.csv").open() as f:
        ev = list(csv.DictReader(f))
    for foot in ("left", "right"):
        data = read_gaitmap_csv(d / "imu_sample.csv", foot)
        strides = eng_mod.run(data, engine, 205, 16, 2000)  # type: ignore[arg-type]
        rate = 204.8
        ic_true = sorted(
            {float(r["ic"]) / rate for r in ev if r["foot"] == foot}
            | {float(r["pre_ic"]) / rate for r in ev if r["foot"] == foot}
        )
        tc_true = sorted(float(r["tc"]) / rate for r in ev if r["foot"] == foot)
        # stamped at the ending contact; contact time is that of the starting stance
        ic = np.array([s["t_contact_s"] - s["stride_time_s"] for s in strides])
        to = ic + np.array([s["contact_time_s"] for s in strides])
        ic = np.concatenate([ic, [s["t_contact_s"] for s in strides]])
        e_ic = [
            float(ic[np.argmin(np.abs(ic - t))] - t)
            for t in ic_true
            if len(ic) and np.min(np.abs(ic - t)) < 0.3
        ]
        e_to = [
            float(to[np.argmin(np.abs(to - t))] - t)
            for t in tc_true
            if len(to) and np.min(np.abs(to - t)) < 0.3
        ]
        ic_mean, ic_mae = 1000 * np.mean(e_ic), 1000 * np.mean(np.abs(e_ic))
        to_mean, to_mae = 1000 * np.mean(e_to), 1000 * np.mean(np.abs(e_to))
        lines.append(
            f"gaitmap {foot:5s}: strides {len(strides)}, "
            f"contacts matched {len(e_ic)}/{len(ic_true)} error mean {ic_mean:+.0f} ms "
            f"MAE {ic_mae:.0f} ms; toe-offs matched {len(e_to)}/{len(tc_true)} "
            f"error mean {to_mean:+.0f} ms MAE {to_mae:.0f} ms"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=("cpython", "micropython"), default="cpython")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("-q", "--quiet", action="store_true", help="summary lines only")
    args = p.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data}; set STRIDECUE_DATA", file=sys.stderr)
        return 2
    rs = run_pyshoe(args.data, args.engine)
    if not args.quiet:
        for r in rs:
            print(f"{r.name} {r.kind:7s} " + summary([r]))
    for kind in ("running", "walking"):
        print(f"PyShoe {kind:7s} ALL " + summary([r for r in rs if r.kind == kind]))
    extra = run_pyshoe(args.data, args.engine, derived=True)
    if not args.quiet:
        for r in extra:
            print(f"{r.name} {r.kind:7s} " + summary([r]) + "  (stances from zv_shoe_opt)")
    if extra:
        print(
            "PyShoe running, trials without annotations (stances from zv_shoe_opt): "
            + summary(extra)
        )
    for line in gaitmap_timing(args.data, args.engine):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
