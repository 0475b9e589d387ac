"""The IMU simulator: signals integrate back to the trajectory; truth, sensor effects, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from stridecue.errors import ConfigError
from stridecue.imu_files import read_csv
from stridecue.sim import scenarios
from stridecue.sim.files import truth_path, write_recording
from stridecue.sim.foot import GRAVITY, Bout, StrideSpec
from stridecue.sim.imu import ImuConfig, mount_rotation, simulate
from stridecue.sim.quintic import Quintic


def _skew_exp(w: np.ndarray) -> np.ndarray:
    """exp([w]x): rotation by the vector w (Rodrigues)."""
    a = float(np.linalg.norm(w))
    k = np.array([[0, -w[2], w[1]], [w[2], 0, -w[0]], [-w[1], w[0], 0]])
    if a < 1e-12:
        return np.eye(3) + k
    return np.eye(3) + math.sin(a) / a * k + (1 - math.cos(a)) / a**2 * (k @ k)


def _bouts(speed: float, stride_s: float, frac: float, n: int, turn: float = 0.0) -> list[Bout]:
    spec = StrideSpec(stride_s, frac, speed * stride_s, turn)
    return [Bout((spec,) * n, rest_s=0.5)]


@pytest.mark.parametrize(
    ("speed", "stride_s", "frac", "turn"),
    [(1.3, 1.1, 0.62, 0.0), (4.0, 0.64, 0.3, 0.1), (9.5, 0.45, 0.21, 0.0)],
    ids=["walk", "run-bend", "sprint"],
)
def test_strapdown_of_the_signals_reproduces_the_trajectory(
    speed: float, stride_s: float, frac: float, turn: float
) -> None:
    # ideal sensor at 4 kHz, tilted mounting: integrate gyro to attitude and
    # specific force to position, starting from the true initial state
    cfg = ImuConfig.ideal(rate_hz=3000.0)
    cfg = ImuConfig(**{**_fields(cfg), "mount_roll_deg": 30.0, "mount_yaw_deg": 70.0})
    rec = simulate(_bouts(speed, stride_s, frac, 4, turn), cfg, tail_s=0.2)
    m = rec.motion
    dt = 1.0 / cfg.rate_hz
    mount = mount_rotation(cfg)
    r = m.rotation()[0] @ mount
    p = m.pos[0].copy()
    v = m.vel[0].copy()
    g = np.array([0.0, 0.0, GRAVITY])
    a_prev = r @ rec.acc[0] - g
    worst_att = 0.0
    rot = m.rotation()
    for k in range(1, len(rec.t)):
        r = r @ _skew_exp(0.5 * (rec.gyr[k - 1] + rec.gyr[k]) * dt)
        a = r @ rec.acc[k] - g
        v_new = v + 0.5 * (a_prev + a) * dt
        p = p + 0.5 * (v + v_new) * dt + (a - a_prev) * dt * dt / 12.0
        v, a_prev = v_new, a
        if k % 500 == 0:
            truth = rot[k] @ mount
            worst_att = max(worst_att, float(np.linalg.norm(truth.T @ r - np.eye(3))))
    travelled = float(np.linalg.norm(m.pos[-1, :2] - m.pos[0, :2]))
    if turn == 0.0:
        assert travelled == pytest.approx(4 * speed * stride_s, rel=1e-6)
    assert worst_att < 2e-3
    assert np.linalg.norm(v - m.vel[-1]) < 0.02 * speed
    assert np.linalg.norm(p - m.pos[-1]) < 0.004 * travelled


def _fields(cfg: ImuConfig) -> dict[str, object]:
    return {f: getattr(cfg, f) for f in cfg.__dataclass_fields__}


def test_quintic_hits_its_knots_and_its_derivatives_are_exact() -> None:
    q = Quintic(
        np.array([0.0, 0.3, 1.0]),
        np.array([0.0, 2.0, 1.0]),
        np.array([1.0, 0.0, -3.0]),
        np.array([0.0, -5.0, 2.0]),
    )
    p, v, a = q(np.array([0.0, 0.3, 1.0]))
    assert np.allclose(p, [0, 2, 1]) and np.allclose(v, [1, 0, -3]) and np.allclose(a, [0, -5, 2])
    t = np.linspace(0.0, 1.0, 20001)
    p, v, a = q(t)
    assert np.allclose(np.gradient(p, t)[1:-1], v[1:-1], atol=1e-4)
    assert np.allclose(np.gradient(v, t)[1:-1], a[1:-1], atol=0.1)  # jerk jumps at knots


def test_truth_matches_the_specs_and_the_foot_is_still_in_stance() -> None:
    sc = scenarios.build("steady", speed_mps=6.0, strides=20, seed=3)
    rec = simulate(sc.bouts, ImuConfig.ideal())
    specs = sc.specs
    assert len(rec.strides) == len(specs) == 20
    for s, spec in zip(rec.strides[1:], specs[1:], strict=True):
        assert s.stride_time_s == pytest.approx(spec.stride_time_s, abs=1e-9)
        assert s.stride_length_m == pytest.approx(spec.stride_length_m, abs=1e-9)
    for s, nxt in zip(rec.strides[:-1], specs[1:], strict=True):
        assert s.contact_time_s == pytest.approx(nxt.contact_time_s, abs=1e-9)
    assert rec.strides[0].first and not any(s.first for s in rec.strides[1:])
    # somewhere in each contact the pod is still: zero rate, 1 g straight up
    m = rec.motion
    for s in rec.strides[:-1]:
        inside = (m.t > s.t_contact_s) & (m.t < s.t_contact_s + s.contact_time_s)
        still = inside & (np.linalg.norm(m.vel, axis=1) < 1e-9)
        assert still.sum() >= 3
        assert np.allclose(np.linalg.norm(rec.acc[still], axis=1), GRAVITY)
        assert np.allclose(rec.gyr[still], 0.0, atol=1e-9)
        # the pod never goes below its stance height by more than a millimetre
    assert m.pos[:, 2].min() > 0.06 - 1e-3


def test_sprint_signals_reach_sprint_magnitudes() -> None:
    # 10 m/s at 4.5 steps/s: strikes beyond 16 g, swing rotation beyond 10 rad/s
    sc = scenarios.build("steady", speed_mps=10.0, cadence_spm=270.0, strides=8)
    rec = simulate(sc.bouts, ImuConfig.ideal())
    assert np.linalg.norm(rec.acc, axis=1).max() > 16 * GRAVITY
    assert np.linalg.norm(rec.gyr, axis=1).max() > 10.0


def test_saturation_clips_at_full_scale_and_is_in_the_truth() -> None:
    bouts = _bouts(4.0, 0.64, 0.3, 8)
    low = simulate(bouts, ImuConfig(acc_range_g=8.0, gyro_range_dps=500.0, quantize=False))
    fs_acc, fs_gyr = 8 * GRAVITY, math.radians(500.0)
    assert np.abs(low.acc).max() == pytest.approx(fs_acc)
    assert np.abs(low.gyr).max() == pytest.approx(fs_gyr)
    assert np.abs(low.acc_clean).max() > fs_acc
    assert all(s.acc_saturated and s.gyro_saturated for s in low.strides[1:])
    wide = simulate(bouts, ImuConfig(acc_range_g=32.0, gyro_range_dps=2000.0))
    assert not any(s.acc_saturated or s.gyro_saturated for s in wide.strides)
    assert np.abs(wide.acc).max() < 32 * GRAVITY


def test_sensor_errors_rate_drops_duplicates_and_jitter() -> None:
    bouts = _bouts(3.0, 0.7, 0.35, 6)
    clean = simulate(bouts, ImuConfig(rate_hz=208.0), seed=1)
    assert np.allclose(np.diff(clean.t), 1 / 208.0)
    lossy = simulate(bouts, ImuConfig(rate_hz=208.0, drop_prob=0.05, dup_prob=0.02), seed=1)
    steps = np.diff(lossy.t)
    assert (steps == 0).sum() > 0  # duplicates
    assert (steps > 1.5 / 208.0).sum() > 0  # gaps
    jit = simulate(bouts, ImuConfig(jitter_s=0.0005), seed=1)
    assert 0.0002 < np.std(np.diff(jit.t) - 1 / 416.0) < 0.002
    # at rest the sensor reads gravity through its mounting, plus bias and noise
    cfg = ImuConfig(mount_pitch_deg=-35.0, mount_roll_deg=20.0)
    rest = simulate(bouts, cfg, seed=2)
    expect = mount_rotation(cfg).T @ np.array([0.0, 0.0, GRAVITY])
    assert np.allclose(rest.acc[:50].mean(axis=0), expect, atol=0.4)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: StrideSpec(-0.5, 0.3, 2.0), "stride_time_s"),
        (lambda: StrideSpec(0.7, 1.0, 2.0), "contact_fraction"),
        (lambda: StrideSpec(0.7, 0.3, 9.0), "stride_length_m"),
        (lambda: StrideSpec(0.4, 0.3, 5.9), "speed_mps"),
        (lambda: Bout((StrideSpec(0.7, 0.3, 2.0),), rest_s=-1.0), "rest_s"),
        (lambda: ImuConfig(rate_hz=10.0), "rate_hz"),
        (lambda: ImuConfig(acc_range_g=float("nan")), "acc_range_g"),
        (lambda: ImuConfig(drop_prob=0.5), "drop_prob"),
        (lambda: scenarios.build("steady-400", speed_mps=12.0), "speed_mps"),
        (lambda: scenarios.build("steady-400", cadence_spm=300.0), "cadence_spm"),
        (lambda: scenarios.build("cadence-reps", effort=1.2), "effort"),
        (lambda: scenarios.build("steady-400", pace=4.0), "pace"),
        (lambda: scenarios.build("marathon"), "marathon"),
        (lambda: scenarios.build("rhythm-loss", cv_after=0.3), "cv_after"),
        (lambda: scenarios.build("cadence-reps", top_speed_mps=10.5), "top_speed_mps"),
    ],
)
def test_bad_parameters_name_the_field_and_the_allowed_range(make: object, field: str) -> None:
    with pytest.raises(ConfigError) as e:
        make()  # type: ignore[operator]
    assert field in str(e.value)
    assert "allowed" in str(e.value)


def test_parameters_are_read_as_name_number_pairs() -> None:
    got = scenarios.parse_params([" speed_mps=6", "seed=2 ", "fade=0.1"], "--param speed_mps=7")
    assert got == {"speed_mps": 6.0, "seed": 2.0, "fade": 0.1}
    for bad in ("speed_mps", "speed_mps=fast", "=6", "speed_mps=6=7"):
        with pytest.raises(ConfigError) as e:
            scenarios.parse_params(["seed=1", bad], "--param speed_mps=7")
        assert f"{bad!r} must be NAME=NUMBER, e.g. --param speed_mps=7" in str(e.value)


def test_a_callers_own_parameters_are_allowed_and_listed() -> None:
    playback = {"speed": "playback speed"}
    scenarios.check_params("rep", ["speed_mps", "speed"], also=playback)
    with pytest.raises(ConfigError) as e:
        scenarios.check_params("rep", ["pace"], also=playback)
    msg = str(e.value)
    assert "no parameter 'pace'" in msg and "speed_mps, distance_m" in msg
    assert msg.endswith("rest_s, speed (playback speed)")
    with pytest.raises(ConfigError, match="unknown scenario 'jog'"):
        scenarios.check_params("jog", [])


def test_a_sim_link_lists_the_playback_speed_with_the_scenario_parameters() -> None:
    from stridecue.links import open_link
    from stridecue.links.sim import SimLink

    with pytest.raises(ConfigError) as e:
        open_link("sim:steady,pace=4")
    assert "no parameter 'pace'" in str(e.value) and "speed (playback speed" in str(e.value)
    with pytest.raises(ConfigError) as e:
        open_link("sim:steady,fast")
    assert "'fast' must be NAME=NUMBER, e.g. sim:rep,speed_mps=6" in str(e.value)
    link = open_link("sim:steady,speed_mps=5,speed=20")
    assert isinstance(link, SimLink)
    assert (link.scenario, link.params, link.speed) == ("steady", {"speed_mps": 5.0}, 20.0)


def test_every_named_scenario_builds_with_its_change_points() -> None:
    kinds = {}
    for name in scenarios.NAMES:
        sc = scenarios.build(name)
        assert sc.n_strides > 5, name
        kinds[name] = {c.kind for c in sc.change_points}
    assert "stride_shortening" in kinds["fatigue-400"]
    assert "stride_shortening" in kinds["shortening-5"]
    assert "rhythm_loss" in kinds["rhythm-loss"]
    assert {"rep_start", "rep_end"} <= kinds["cadence-reps"]
    assert "rep_end" in kinds["relay-leg"]
    fade = scenarios.build("fatigue-400", speed_mps=8.0)
    speeds = [s.speed_mps for s in fade.specs]
    assert np.mean(speeds[-5:]) < 0.85 * max(np.median(speeds[10:40]), 1e-9)
    # a 400 m turns the athlete through two bends: 2 pi of heading
    total_turn = sum(s.heading_change_rad for s in scenarios.build("steady-400").specs)
    assert total_turn == pytest.approx(2 * math.pi, rel=0.06)


def test_recording_files_round_trip(tmp_path: Path) -> None:
    rec = simulate(_bouts(3.0, 0.7, 0.35, 5), ImuConfig(rate_hz=208.0))
    path = tmp_path / "run.csv"
    truth = write_recording(path, rec)
    assert truth == truth_path(path)
    back = read_csv(path)
    assert np.allclose(back.t_s, rec.t, atol=1e-6)
    assert np.allclose(back.acc_mps2, rec.acc, rtol=1e-5, atol=1e-5)
    rows = truth.read_text().splitlines()
    assert rows[0].startswith("t_s,stride_time_s,stride_length_m,contact_time_s")
    assert len(rows) == 1 + len(rec.strides)
    assert float(rows[2].split(",")[2]) == pytest.approx(2.1, abs=1e-4)
