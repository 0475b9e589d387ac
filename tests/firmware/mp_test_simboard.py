# simboard.py (the simulation board): the file IMU converts to the engine's
# integers and clips at full scale, both file layouts, the simulated motor
# rejects what a PWM pin rejects and logs only changes, the argument parser.
import simboard

_CSV = "/tmp/stridecue_mp_test_simboard.csv"
_INT = "/tmp/stridecue_mp_test_simboard.txt"
_LOG = "/tmp/stridecue_mp_test_simboard.log"


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_csv_imu_converts_to_mg_and_decidegrees_and_clips():
    _write(
        _CSV,
        "t,ax,ay,az,gx,gy,gz\n"
        "10.000,0,0,9.80665,0,0,0\n"
        "10.0024,400,-400,0,1.0,-1.0,100\n"
        "10.0048,1,2,3,0,0,0\n",
    )
    imu = simboard.FileImu(_CSV, 32000, 20000)
    assert imu.rate_hz() == 417  # 2.4 ms steps
    assert imu.t_ms == 0 and imu.s == [0, 0, 1000, 0, 0, 0]
    assert imu.next()
    assert imu.t_ms == 2
    # 400 m/s^2 = 40.8 g clips at 32 g; 1 rad/s = 57.3 deg/s; 100 rad/s clips at 2000 dps
    assert imu.s == [32000, -32000, 0, 572, -572, 20000]
    assert imu.next() and imu.t_ms == 5
    assert not imu.next()
    assert imu.count == 3


def test_integer_imu_takes_its_rate_from_the_header():
    _write(_INT, "208 16 2000\n0 0 0 1000 0 0 0\n5 17000 0 0 0 0 -25000\n")
    imu = simboard.FileImu(_INT, 16000, 20000)
    assert imu.rate_hz() == 208
    assert imu.next()
    assert imu.t_ms == 5 and imu.s == [16000, 0, 0, 0, 0, -20000]


def test_bad_header_is_refused():
    _write(_CSV, "time,a,b\n1,2,3\n")
    try:
        simboard.FileImu(_CSV, 32000, 20000)
    except ValueError as e:
        assert "t,ax,ay,az,gx,gy,gz" in str(e)
    else:
        raise AssertionError("a file without the IMU header was accepted")


def test_motor_logs_changes_and_rejects_bad_duty():
    now = [100]
    m = simboard.SimMotor(lambda: now[0], _LOG)
    m.duty_u16(0)  # no change: not logged
    m.duty_u16(40000)
    now[0] = 180
    m.duty_u16(40000)
    m.duty_u16(0)
    for bad in (-1, 65536):
        try:
            m.duty_u16(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("duty %d accepted" % bad)
    assert m.duty_u16() == 0
    with open(_LOG) as f:
        assert f.read() == "100 40000\n180 0\n"
    assert m.changes == 2


def test_arguments():
    path, opts = simboard._args(["imu.csv", "--speed", "2.5", "--motor-log", "m.log"])
    assert path == "imu.csv"
    assert opts["--speed"] == 2.5 and opts["--motor-log"] == "m.log"
    assert opts["--acc-range-g"] == 32
    for bad in ([], ["a", "b"], ["a", "--speed"], ["a", "--speed", "-1"]):
        try:
            simboard._args(bad)
        except ValueError:
            continue
        raise AssertionError("bad arguments accepted: %r" % (bad,))


def test_clock_runs_at_the_replay_speed():
    c = simboard.Clock(0)
    c.sample_ms = 1234
    assert c.ms() == 1234  # flat out: the device time is the newest sample's
    fast = simboard.Clock(1000)
    assert fast.ms() >= 0
