"""The gait engine on real recordings (../shared/data), skipped when they are absent.

Three PyShoe running trials (8 g accelerometer, tight turns, Vicon truth): every
annotated stride found, nothing invented, stride length close to Vicon. The full
figures over every trial come from benchmarks/gait_accuracy.py (docs/accuracy.md).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest
from benchload import load
from stridecue import engine
from stridecue.firmware import micropython_exe
from stridecue.imu_files import ImuData, read_gaitmap_csv, read_pyshoe_mat, read_vectornav_mat

TRIALS = ("2017-11-27-11-11-53", "2017-11-27-11-13-10", "2017-11-27-11-17-28")


def _bench() -> ModuleType:
    return load("gait_accuracy")


@pytest.mark.slow
def test_running_trials_detection_and_length(shared_data: Path) -> None:
    bench = _bench()
    results = []
    for name in TRIALS:
        data = read_pyshoe_mat(shared_data / "pyshoe_vicon" / "mat" / f"{name}.mat")
        truth = bench.pyshoe_truth(shared_data, name)
        assert truth is not None
        strides = engine.run(data, "cpython", 200, 8, 2000, bench.PYSHOE_GYRO_LAG_US)
        results.append(bench.match(strides, truth[0], truth[1], name, "running"))
    n_true = sum(r.n_true for r in results)
    n_found = sum(r.n_found for r in results)
    n_match = sum(r.n_match for r in results)
    assert n_true >= 60
    assert n_match / n_true >= 0.98 and n_match / n_found >= 0.98, (n_true, n_found, n_match)
    err = np.concatenate([r.err_m for r in results])
    rel = err / np.concatenate([r.true_m for r in results])
    assert np.median(np.abs(rel)) <= 0.035, np.median(np.abs(rel))
    assert abs(np.mean(rel)) <= 0.035, np.mean(rel)


@pytest.mark.slow
@pytest.mark.skipif(micropython_exe() is None, reason="micropython unix port not installed")
def test_micropython_and_cpython_agree_on_real_data(shared_data: Path) -> None:
    # with the sensor's gyro lag (7.5 ms = 1.5 samples: the interpolated
    # path) and without it; the lag must change the lengths, not the strides found
    data = read_pyshoe_mat(shared_data / "pyshoe_vicon" / "mat" / f"{TRIALS[0]}.mat")
    lag = _bench().PYSHOE_GYRO_LAG_US
    mp = engine.run(data, "micropython", 200, 8, 2000, lag)
    cp = engine.run(data, "cpython", 200, 8, 2000, lag)
    assert len(cp) >= 15 and mp == cp
    cp0 = engine.run(data, "cpython", 200, 8, 2000)
    assert [s["t_contact_s"] for s in cp0] == [s["t_contact_s"] for s in cp]
    assert [s["stride_length_m"] for s in cp0] != [s["stride_length_m"] for s in cp]


def _course(shared_data: Path, name: str) -> ImuData:
    path = shared_data / "uci_vectornav_course" / "2023_08_30" / f"{name}_VN.mat"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return read_vectornav_mat(path)


@pytest.mark.slow
@pytest.mark.skipif(micropython_exe() is None, reason="micropython unix port not installed")
def test_micropython_and_cpython_agree_on_slow_walking_and_sprint(shared_data: Path) -> None:
    # 800 Hz, slow walking (landings waiting for confirmation) to a clipped sprint
    data = _course(shared_data, "exp200")
    mp = engine.run(data, "micropython", 800, 16, 2000)
    cp = engine.run(data, "cpython", 800, 16, 2000)
    assert len(cp) >= 30 and mp == cp


@pytest.mark.slow
@pytest.mark.parametrize("name", ["exp200", "exp400"])
def test_course_reads_its_distance(shared_data: Path, name: str) -> None:
    # tuning trials. The walking (walk slow + walk fast, 21.03 m, up to the first
    # running stance): with the heel-rise levelling its strides scattered and read
    # +9.0 / +10.4 % long; levelled at the origin, -3.1 / +1.9 % (docs/accuracy-record.md,
    # issue #19 seventh and eighth passes). The running (jog + run + sprint, 38.10 m,
    # every stride clipped at 16 g): with the velocity error spread linearly it read
    # -12.3 / -14.7 %; placed on the clipped landing, +1.4 / -5.6 % (tenth pass).
    # The forward 59.13 m: the target, within 5 %.
    bench = _bench()
    strides = engine.run(_course(shared_data, name), "cpython", 800, 16, 2000)
    first, _, end = bench.course_parts(strides)
    walk_end = bench.course_walk_end(strides, first, end)
    walked = sum(s["stride_length_m"] for s in strides[first:walk_end])
    ran = sum(s["stride_length_m"] for s in strides[walk_end:end])
    assert walked == pytest.approx(bench.COURSE_WALK_M, rel=0.05), walked
    assert ran == pytest.approx(bench.COURSE_RUNNING_M, rel=0.06), ran
    assert walked + ran == pytest.approx(bench.COURSE_FORWARD_M, rel=0.05), walked + ran


@pytest.mark.slow
def test_slow_walking_hang_before_heel_strike_is_not_a_stance(shared_data: Path) -> None:
    # course exp200 (a tuning trial): the slow walk's 13.41 m in about 9 strides
    # (~1.5 m); the foot hangs nearly still ~60 ms before heel strike. Ending the
    # strides there read them 0.7-1.4 m (median 0.90 m). The slow walk: the
    # strides after the first (from standing) up to the first shorter than 1.2 s.
    strides = engine.run(_course(shared_data, "exp200"), "cpython", 800, 16, 2000)
    slow = []
    for s in strides[1:]:
        if s["stride_time_s"] < 1.2:
            break
        slow.append(s["stride_length_m"])
    assert len(slow) >= 6
    assert 1.3 <= float(np.median(slow)) <= 2.0, slow


@pytest.mark.slow
def test_a_smooth_mid_swing_bump_does_not_confirm_a_hang_as_a_landing(shared_data: Path) -> None:
    # course exp200 (a tuning trial): a smooth 3 g bump in mid-swing (28.90 s, no
    # sample-to-sample step above 0.2 g) lay in the impact look-back of the hang
    # before heel strike (29.05-29.21 s) and ended a 0.71 m stride there; the real
    # landing then read as stance chatter. That landing is a heel strike (29.22 s:
    # 0.8 -> 3.1 g within 5 ms, the foot turning at 50 deg/s), a 140 ms roll at
    # 150-310 deg/s, and the forefoot's slap (29.36 s, 4.7 g) before the foot is
    # flat; the contact is the heel strike (issue #19, thirteenth pass; before it,
    # the roll: 29.34 s)
    strides = engine.run(_course(shared_data, "exp200"), "cpython", 800, 16, 2000)
    ends = [s for s in strides if 28.5 <= s["t_contact_s"] <= 29.6]
    assert len(ends) == 1, ends
    assert 29.21 <= ends[0]["t_contact_s"] <= 29.23, ends
    assert ends[0]["stride_length_m"] >= 1.3, ends
    after = next(s for s in strides if s["t_contact_s"] > 29.6)
    assert after["stride_time_s"] < 2.2 and "low_quality" not in after["flags"], after


def _walking_errors(shared_data: Path, name: str) -> npt.NDArray[np.float64]:
    """Relative length error of every stride of a PyShoe walking trial (all matched)."""
    bench = _bench()
    data = read_pyshoe_mat(shared_data / "pyshoe_vicon" / "mat" / f"{name}.mat")
    truth = bench.pyshoe_truth(shared_data, name)
    assert truth is not None
    strides = engine.run(data, "cpython", 200, 8, 2000, bench.PYSHOE_GYRO_LAG_US)
    r = bench.match(strides, truth[0], truth[1], name, "walking")
    assert r.n_match == r.n_true, (r.n_true, r.n_found, r.n_match)
    return np.asarray(r.err_m, dtype=np.float64) / np.asarray(r.true_m, dtype=np.float64)


@pytest.mark.slow
def test_a_short_still_dip_without_an_impact_does_not_end_a_walking_stride(
    shared_data: Path,
) -> None:
    # PyShoe walking 2017-11-22-11-22-46 (a tuning trial): the rotation dips below the
    # stance test for a few samples in mid-swing (a still run shorter than
    # _LAND_STILL_MS) with no sharp >= 2 g impact before it. That short run used to end
    # the stride at once (the rule meant for a sprint's short foot-flat, which always
    # follows an impact) and the ZUPT there removed real velocity: 7 of 20 strides read
    # 22-47 % short. Now only the first one (from standing) is off by more than 20 %.
    rel = np.abs(_walking_errors(shared_data, "2017-11-22-11-22-46"))
    assert len(rel) == 20
    assert int(np.sum(rel > 0.2)) <= 1, np.round(rel, 2)


@pytest.mark.slow
def test_walking_stance_is_levelled_at_its_origin_not_on_the_heel_rise(
    shared_data: Path,
) -> None:
    # PyShoe walking 2017-11-22-11-26-05 (a tuning trial). The last 20-50 ms of a
    # walking stance (the heel rise, 25-55 deg/s) still pass the stance test; levelling
    # on them took the foot's forward acceleration for tilt and left each stride's
    # attitude 4-21 deg off: median error 3.6 %, worst 9.5 %, bias +3.5 %. Levelled only
    # on the block that holds the origin (docs/accuracy-record.md, issue #19 seventh pass):
    # 1.2 %, 4.6 %, +0.3 %.
    rel = _walking_errors(shared_data, "2017-11-22-11-26-05")
    assert np.median(np.abs(rel)) < 0.02, np.round(rel, 3)
    assert np.max(np.abs(rel)) < 0.06, np.round(rel, 3)
    assert abs(float(np.mean(rel))) < 0.015, np.round(rel, 3)


@pytest.mark.slow
def test_gaitmap_contact_and_toe_off_timing(shared_data: Path) -> None:
    import csv

    folder = shared_data / "gaitmap_example_walking"
    with (folder / "stride_events_sample.csv").open() as f:
        events = [r for r in csv.DictReader(f) if r["foot"] == "right"]
    data = read_gaitmap_csv(folder / "imu_sample.csv", "right")
    strides = engine.run(data, "cpython", 205, 16, 2000)
    # stamped at the ending contact; contact time is that of the starting stance
    start = np.array([s["t_contact_s"] - s["stride_time_s"] for s in strides])
    to = start + np.array([s["contact_time_s"] for s in strides])
    ic = np.concatenate([start, [s["t_contact_s"] for s in strides]])
    ic_err = [np.min(np.abs(ic - float(r["ic"]) / 204.8)) for r in events]
    to_err = [np.min(np.abs(to - float(r["tc"]) / 204.8)) for r in events]
    assert np.median(ic_err) < 0.04 and np.median(to_err) < 0.04, (ic_err, to_err)


@pytest.mark.slow
@pytest.mark.parametrize("trial", ["2017-11-22-11-22-46", "2017-11-27-11-11-24"])
def test_a_real_first_stride_from_standing_starts_where_the_foot_stood(
    shared_data: Path, trial: str
) -> None:
    # PyShoe tuning trials start from standing. While standing the stride's origin
    # followed the latest still sample, into the heel rise that begins the first
    # stride, and the blocks there were levelled; since issue #19's fifteenth pass
    # only a quiet sample (RMS rate under a quarter of the stance limit) is followed
    # or levelled while standing. First strides read -47.2 % and -2.6 % before it
    bench = _bench()
    path = shared_data / "pyshoe_vicon" / "mat" / f"{trial}.mat"
    if not path.is_file():
        pytest.skip(f"PyShoe recording not found: {path}")
    truth = bench.pyshoe_truth(shared_data, trial)
    assert truth is not None
    strides = engine.run(read_pyshoe_mat(path), "cpython", 200, 8, 2000, bench.PYSHOE_GYRO_LAG_US)
    r = bench.match(strides, truth[0], truth[1], trial, "walking")
    assert r.n_match == r.n_true
    assert abs(r.err_m[0] / r.true_m[0]) < 0.015, (r.err_m[0], r.true_m[0])


@pytest.mark.slow
def test_a_walks_hang_after_a_late_swing_is_not_a_sprint_foot_flat(shared_data: Path) -> None:
    # PyShoe tuning walk -23-25, stride 12: the foot hangs still for a few samples before
    # its heel strike, too short for the long stance window, and the late swing before
    # it (2.2 g, a 419 mg step) passed for a sprint's impact: the stride ended there,
    # 0.88 m for 1.16 m, unflagged. A stride from a walking stance (longer than 450 ms)
    # no longer ends on a sprint's foot-flat (issue #19, fifteenth pass)
    bench = _bench()
    trial = "2017-11-22-11-23-25"
    path = shared_data / "pyshoe_vicon" / "mat" / f"{trial}.mat"
    if not path.is_file():
        pytest.skip(f"PyShoe recording not found: {path}")
    truth = bench.pyshoe_truth(shared_data, trial)
    assert truth is not None
    data = read_pyshoe_mat(path)
    strides = engine.run(data, "cpython", 200, 8, 2000, bench.PYSHOE_GYRO_LAG_US)
    r = bench.match(strides, truth[0], truth[1], trial, "walking")
    assert r.n_match == r.n_true == 20
    rel = np.array(r.err_m) / np.array(r.true_m)
    assert float(np.max(np.abs(rel))) < 0.05, np.round(rel, 3)
    if micropython_exe() is not None:
        mp = engine.run(data, "micropython", 200, 8, 2000, bench.PYSHOE_GYRO_LAG_US)
        assert mp == strides
