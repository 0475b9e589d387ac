# service.py (Pod): control operations per docs/protocol.md, config validation
# that changes nothing on error, backfill and session read, cues, status.
import json
import struct

from fakes.hw import PWM, Clock, Pin
from fakes.ramfs import Flash
from stridepod import proto
from stridepod.bonds import Bonds
from stridepod.haptics import Haptics
from stridepod.service import Pod
from stridepod.store import Store


class Link:
    # records what the pod sends; busy=True makes record() refuse (congestion)
    def __init__(self):
        self.replies = []
        self.records = []
        self.strides = []
        self.rsc = []
        self.statuses = []
        self.busy = False
        self.host = 1

    def stride(self, rec, n, rsc, rn):
        self.strides.append(bytes(rec[:n]))
        self.rsc.append(bytes(rsc[:rn]))

    def reply(self, conn, buf, n):
        self.replies.append(bytes(buf[:n]))

    def record(self, conn, buf, n):
        if self.busy:
            return False
        self.records.append(bytes(buf[:n]))
        return True

    def status(self, buf, n):
        self.statuses.append(bytes(buf[:n]))

    def hosts(self):
        return self.host


class Imu:
    state = 0
    dropped = 7


def _pod(flash=None):
    fl = flash or Flash()
    clock = Clock(1000)
    pwm = PWM(Pin(7), freq=20000)
    hap = Haptics(pwm, clock)
    store = Store(fl.root, fl.fs).open()
    link = Link()
    pod = Pod(clock, store, hap, [link], battery=lambda: 87, imu=Imu())
    return pod, link, clock, pwm, fl


def _req(op, token, params=b""):
    return bytes([proto.KIND_CONTROL, proto.VERSION, op, token]) + params


def _reply(link):
    r = link.replies[-1]
    assert r[0] == proto.KIND_REPLY and r[1] == 1
    return r[2], r[3], r[4], r[5:]


def _strides(pod, n, length=2400):
    for i in range(n):
        pod.on_stride(10000 + i * 700, 700, 210, length, 0)


def _drain(pod):
    for _ in range(10000):
        if not pod.pump():
            return
    raise AssertionError("backfill never finished")


def _seqs(recs):
    return [struct.unpack_from("<I", r, 2)[0] for r in recs]


def test_start_stop_and_session_listing():
    pod, link, _, _, fl = _pod()
    assert pod.control(_req(1, 9, struct.pack("<I", 1700000000)), link) == proto.R_OK
    op, tok, res, pay = _reply(link)
    assert (op, tok, res) == (1, 9, 0) and struct.unpack("<HI", pay) == (1, 0)
    assert pod.state_bits() & 1 and link.statuses  # status published on change
    _strides(pod, 5)
    pod.control(_req(1, 10, struct.pack("<I", 1)), link)
    assert _reply(link)[2] == proto.R_BUSY
    pod.control(_req(2, 11), link)
    assert _reply(link)[2] == 0 and struct.unpack("<HI", _reply(link)[3]) == (1, 5)
    pod.control(_req(2, 12), link)
    assert _reply(link)[2] == proto.R_NOT_FOUND
    pod.control(_req(7, 13, b"\x00"), link)
    op, tok, res, pay = _reply(link)
    assert res == 0 and struct.unpack("<BHIIB", pay) == (0, 1, 1700000000, 5, 0)
    pod.control(_req(7, 14, b"\x01"), link)
    assert _reply(link)[2] == proto.R_NOT_FOUND
    fl.close()


def test_strides_are_sequenced_and_rsc_encoded():
    pod, link, _, _, fl = _pod()
    pod.control(_req(1, 1, struct.pack("<I", 5)), link)
    _strides(pod, 3, length=2450)
    assert _seqs(link.strides) == [0, 1, 2]
    flags, speed, cad, cm, dist = struct.unpack("<BHBHI", link.rsc[-1])
    assert cad == 171 and cm == 245 and dist == 73  # 3 x 2.45 m = 7.3 m
    assert speed == 2450 * 256 // 700 and flags == 0x07  # 3.5 m/s: running
    fl.close()


def test_bad_requests_get_errors_and_change_nothing():
    pod, link, _, _, fl = _pod()
    before = list(pod.config)
    cases = [
        (_req(0x42, 1), proto.R_UNKNOWN_OP),
        (_req(4, 2, b"\x01\xb4"), proto.R_BAD_LENGTH),  # short SET_CONFIG
        (_req(3, 3, b"\x00"), proto.R_BAD_LENGTH),  # TIME_SYNC takes nothing
        (_req(4, 4, b"\x01" + struct.pack("<I", 99)), proto.R_OUT_OF_RANGE),
        (_req(4, 5, b"\x01" + struct.pack("<I", 241)), proto.R_OUT_OF_RANGE),
        (_req(4, 6, b"\x02" + struct.pack("<I", 400)), proto.R_OUT_OF_RANGE),
        (_req(4, 7, b"\x03" + struct.pack("<I", 2)), proto.R_OUT_OF_RANGE),
        (_req(4, 8, b"\x04" + struct.pack("<I", 200)), proto.R_OUT_OF_RANGE),  # not < high
        (_req(4, 9, b"\x05" + struct.pack("<I", 160)), proto.R_OUT_OF_RANGE),  # not > low
        (_req(4, 10, b"\x0b" + struct.pack("<I", 1)), proto.R_OUT_OF_RANGE),  # no key 11
        (_req(4, 10, b"\x06" + struct.pack("<I", 2)), proto.R_OUT_OF_RANGE),
        (_req(4, 10, b"\x07" + struct.pack("<I", 4)), proto.R_OUT_OF_RANGE),  # PULSE: no
        (_req(4, 10, b"\x08" + struct.pack("<I", 0)), proto.R_OUT_OF_RANGE),
        (_req(4, 10, b"\x09" + struct.pack("<I", 2)), proto.R_OUT_OF_RANGE),
        (_req(4, 10, b"\x0a" + struct.pack("<I", 9)), proto.R_OUT_OF_RANGE),  # rest 10..3600 s
        (_req(4, 10, b"\x0a" + struct.pack("<I", 3601)), proto.R_OUT_OF_RANGE),
        (_req(12, 10, b"\x01"), proto.R_BAD_LENGTH),  # SESSION_INFO takes a u16
        (_req(13, 10, struct.pack("<H", 1)), proto.R_BAD_LENGTH),  # MARK_SYNCED: u16, u32
        (_req(14, 10), proto.R_UNKNOWN_OP),
        (_req(15, 10), proto.R_UNKNOWN_OP),  # between store and forward and the bond ops
        (_req(0x12, 10), proto.R_UNKNOWN_OP),  # past FORGET_BOND
        (_req(5, 11, b"\x00"), proto.R_OUT_OF_RANGE),
        (_req(6, 12, struct.pack("<IH", 0, 0)), proto.R_OUT_OF_RANGE),  # count 0
        (bytes([4, 2, 3, 13]), proto.R_BAD_VERSION),
        (bytes([4, 1]), proto.R_BAD_LENGTH),
    ]
    for data, want in cases:
        pod.control(data, link)
        assert _reply(link)[4 - 2] == want, (data, _reply(link))
    assert _reply(link)[0:2] == (0, 0)  # too short to name op/token: zeros
    assert pod.config == before and pod.refused == len(cases)
    pod.control(_req(4, 20, b"\x01" + struct.pack("<I", 170)), link, permitted=False)
    assert _reply(link)[2] == proto.R_NOT_PERMITTED and pod.config == before
    fl.close()


def test_config_set_get_and_persist():
    fl = Flash()
    pod, link, _, _, _ = _pod(fl)
    seen = []
    pod.on_config = lambda k, v: seen.append((k, v))
    pod.control(_req(4, 1, b"\x02" + struct.pack("<I", 833)), link)
    assert _reply(link)[2] == 0 and struct.unpack("<BI", _reply(link)[3]) == (2, 833)
    pod.control(_req(4, 2, b"\x04" + struct.pack("<I", 150)), link)
    pod.control(_req(5, 3, b"\x02"), link)
    assert struct.unpack("<BI", _reply(link)[3]) == (2, 833)
    assert seen == [(2, 833), (4, 150)]
    pod2, _, _, _, _ = _pod(fl)  # reboot: config comes back from flash
    assert pod2.get(2) == 833 and pod2.get(4) == 150
    pod2.control(_req(1, 4, struct.pack("<I", 1)), link)
    pod2.control(_req(4, 5, b"\x02" + struct.pack("<I", 208)), link)
    assert _reply(link)[2] == proto.R_BUSY and pod2.get(2) == 833
    fl.close()


def test_split_plan_keys_and_a_config_stored_before_them():
    fl = Flash()
    pod, link, _, _, _ = _pod(fl)
    for key, v, want in (
        (16, 11500, 0),  # PLAN_100_MS: 11.5 s
        (17, 24000, 0),
        (21, 3600000, 0),  # up to an hour
        (18, 0, 0),  # 0: no checkpoint
        (16, 999, proto.R_OUT_OF_RANGE),  # under a second: not a 100 m time
        (20, 3600001, proto.R_OUT_OF_RANGE),
    ):
        pod.control(_req(4, 1, bytes((key,)) + struct.pack("<I", v)), link)
        assert _reply(link)[2] == want, (key, v)
    pod.control(_req(5, 2, b"\x16"), link)  # key 22: none
    assert _reply(link)[2] == proto.R_OUT_OF_RANGE
    assert [pod.get(k) for k in range(16, 22)] == [11500, 24000, 0, 0, 0, 3600000]
    # a config file written by a firmware with 15 keys: those load, the plan is empty
    old = [185, 833, 1, 150, 170, 1, 2, 3, 0, 30, 171, 2, 1, 1030, 400]
    assert pod.store.save_config(old)
    pod2, _, _, _, _ = _pod(fl)
    assert pod2.config[:15] == old and pod2.config[15:] == [0] * 6
    fl.close()


def test_time_sync_reports_device_clock():
    pod, link, clock, _, fl = _pod()
    clock.advance(41234)
    pod.control(_req(3, 77), link)
    assert struct.unpack("<I", _reply(link)[3]) == (42234,)
    fl.close()


def _vectors():
    # name -> bytes of every golden vector (tests/vectors/records.json)
    vec = {}
    with open("tests/vectors/records.json") as f:
        for v in json.load(f)["vectors"]:
            vec[v["name"]] = bytes.fromhex(v["hex"].replace(" ", ""))
    return vec


def test_replies_are_the_vectors_bytes():
    # what the pod sends, byte for byte, is what tests/vectors/records.json pins
    vec = _vectors()
    pod, link, clock, _, fl = _pod()
    clock.advance(123456 - clock())
    pod.control(vec["control_time_sync"], link)
    assert link.replies[-1] == vec["reply_time_sync"]
    pod.store.next_seq = 1000
    _strides(pod, 25)
    pod.control(vec["control_backfill"], link)  # 25 from 1000
    assert link.replies[-1] == vec["reply_backfill"]
    pod.control(_req(0x42, 1), link)
    assert link.replies[-1] == vec["reply_unknown_opcode"]
    pod.control(_req(4, 9, b"\x01" + struct.pack("<I", 300)), link)  # cadence 300
    assert link.replies[-1] == vec["reply_bad_config"]
    _drain(pod)
    assert len(link.records) == 25
    for r in link.records:  # backfilled strides: F_BACKFILLED added to what was sent live
        assert r[16] == 0x08 and r[:16] == link.strides[_seqs([r])[0] - 1000][:16]
    fl.close()


def test_store_and_forward_replies_are_the_vectors_bytes():
    vec = _vectors()
    pod, link, clock, _, fl = _pod()
    pod.control(vec["control_set_rest_stop"], link)
    assert _reply(link)[2] == 0 and pod.get(10) == 60
    pod.control(vec["control_set_pacer"], link)
    assert _reply(link)[2] == 0 and pod.get(11) == 180
    _auto_session(pod, 4)  # session 1, seq 0..3, date unknown
    pod.control(_req(1, 1, struct.pack("<I", 1700000000)), link)
    _strides(pod, 3)  # session 2, seq 4..6
    pod.control(_req(2, 2), link)
    clock.advance(90000)
    _auto_session(pod, 5)  # session 3, seq 7..11
    for name in ("list_sessions", "session_info", "mark_synced"):
        pod.control(vec["control_" + name], link)
        want = vec["reply_list_sessions_auto" if name == "list_sessions" else "reply_" + name]
        assert link.replies[-1] == want, name
    fl.close()


def test_bonds_are_listed_and_forgotten_as_the_vectors_say():
    vec = _vectors()
    pod, link, _, _, fl = _pod()
    pod.control(vec["control_list_bonds"], link)
    assert _reply(link)[2] == proto.R_NOT_FOUND  # no BLE link: no bonds
    pod.bonds = Bonds()
    pod.bonds.accept = True
    for addr in (b"\xd8\x3a\xdd\x12\x34\x56", b"\x11\x22\x33\x44\x55\x66"):
        key = b"\x00" + bytes(reversed(addr))  # as the stack files a bond
        for t in (1, 2):
            assert pod.bonds.set(t, key, bytes(80))
    pod.control(vec["control_list_bonds"], link)
    assert link.replies[-1] == vec["reply_list_bonds"]
    pod.control(vec["control_forget_bond"], link)
    assert link.replies[-1] == vec["reply_forget_bond"]
    pod.control(vec["control_forget_bond"], link)
    assert _reply(link)[2] == proto.R_NOT_FOUND
    pod.control(_req(0x10, 1, b"\x00"), link)
    assert _reply(link)[3] == b"\x00\x01\x00\x11\x22\x33\x44\x55\x66"
    pod.control(_req(0x10, 2), link)
    assert _reply(link)[2] == proto.R_BAD_LENGTH
    pod.control(vec["control_forget_all_bonds"], link)
    assert _reply(link)[2:] == (0, b"\x01") and pod.bonds.peers() == []
    pod.control(vec["control_forget_all_bonds"], link)
    assert _reply(link)[2:] == (0, b"\x00")  # nothing left: still done
    pod.control(vec["control_list_bonds"], link, permitted=False)
    assert _reply(link)[2] == proto.R_NOT_PERMITTED
    fl.close()


def test_backfill_from_ring_and_flash_with_flag():
    pod, link, _, _, fl = _pod()
    pod.control(_req(1, 1, struct.pack("<I", 5)), link)
    _strides(pod, 400)  # ring holds 128: the oldest come from the file
    pod.control(_req(6, 2, struct.pack("<IH", 10, 300)), link)
    _op, _tok, res, pay = _reply(link)
    assert res == 0 and struct.unpack("<IH", pay) == (10, 300)
    _drain(pod)
    assert _seqs(link.records) == list(range(10, 310))
    for r in link.records:
        assert struct.unpack_from("<H", r, 16)[0] & proto.F_BACKFILLED
        assert struct.unpack_from("<H", r, 12)[0] == 210
    fl.close()


def test_backfill_range_partly_gone_and_not_found():
    pod, link, _, _, fl = _pod()
    pod.control(_req(1, 1, struct.pack("<I", 5)), link)
    _strides(pod, 300)
    pod.control(_req(2, 2), link)
    pod.control(_req(10, 3, struct.pack("<H", 1)), link)  # delete the session
    assert _reply(link)[2] == 0
    pod.control(_req(6, 4, struct.pack("<IH", 150, 100)), link)
    _op, _tok, res, pay = _reply(link)
    assert res == 0 and struct.unpack("<IH", pay) == (172, 78)  # only the ring (128) is left
    pod.control(_req(6, 5, struct.pack("<IH", 5000, 10)), link)
    assert _reply(link)[2] == proto.R_NOT_FOUND
    _drain(pod)
    assert _seqs(link.records) == list(range(172, 250))
    fl.close()


def test_backfill_waits_for_a_busy_link():
    pod, link, _, _, fl = _pod()
    pod.control(_req(1, 1, struct.pack("<I", 5)), link)
    _strides(pod, 20)
    link.busy = True
    pod.control(_req(6, 2, struct.pack("<IH", 0, 20)), link)
    for _ in range(5):
        assert pod.pump()
    assert link.records == []
    link.busy = False
    _drain(pod)
    assert _seqs(link.records) == list(range(20))
    fl.close()


def test_read_and_delete_sessions():
    pod, link, _, _, fl = _pod()
    for sess in range(2):
        pod.control(_req(1, 1, struct.pack("<I", 100 + sess)), link)
        _strides(pod, 10)
        pod.control(_req(2, 2), link)
    pod.control(_req(8, 3, struct.pack("<HIH", 2, 8, 5)), link)
    _op, _tok, res, pay = _reply(link)
    assert res == 0 and struct.unpack("<HIH", pay) == (2, 10, 3)  # 8, 9: other session
    _drain(pod)
    assert _seqs(link.records) == [10, 11, 12]
    pod.control(_req(8, 3, struct.pack("<HIH", 1, 15, 5)), link)
    assert _reply(link)[2] == proto.R_NOT_FOUND  # session 1 holds 0..9
    pod.control(_req(8, 4, struct.pack("<HIH", 9, 0, 5)), link)
    assert _reply(link)[2] == proto.R_NOT_FOUND
    pod.control(_req(10, 5, struct.pack("<H", 9)), link)
    assert _reply(link)[2] == proto.R_NOT_FOUND
    pod.control(_req(1, 6, struct.pack("<I", 7)), link)
    pod.control(_req(10, 7, struct.pack("<H", 3)), link)
    assert _reply(link)[2] == proto.R_BUSY  # the running session
    pod.control(_req(10, 8, struct.pack("<H", 1)), link)
    assert _reply(link)[2] == 0 and [s.sid for s in pod.store.sessions] == [2, 3]
    fl.close()


def test_seq_survives_reboot():
    fl = Flash()
    pod, link, _, _, _ = _pod(fl)
    pod.control(_req(1, 1, struct.pack("<I", 5)), link)
    _strides(pod, 7)
    pod2, link2, _, _, _ = _pod(fl.snapshot())  # power cut mid-session
    pod2.control(_req(1, 2, struct.pack("<I", 6)), link2)
    assert struct.unpack("<HI", _reply(link2)[3]) == (2, 7)
    fl.close()


def test_status_and_identify():
    pod, link, clock, pwm, fl = _pod()
    clock.advance(180000)
    pod.control(_req(11, 1), link)
    assert _reply(link)[2] == 0
    st = link.records[-1]
    assert len(st) == 20 and st[0] == proto.KIND_STATUS
    assert st[2] == 87 and st[3] == 0 and st[5] & 4  # battery, imu ok, host
    assert struct.unpack_from("<I", st, 6)[0] == 7 and st[14:17] == bytes([0, 1, 0])
    assert struct.unpack_from("<H", st, 18)[0] == 3  # minutes up
    pod.control(_req(9, 2), link)
    assert _reply(link)[2] == 0 and pwm.duty_u16() > 0  # identify buzzes
    fl.close()


def test_cues_play_or_are_counted():
    pod, _link, _, pwm, fl = _pod()
    ok = bytes([3, 1, 1, 80, 1, 0, 0])
    assert pod.cue(ok) and pwm.duty_u16() > 0
    bad = [
        bytes([3, 1, 9, 80, 1, 0, 0]),  # unknown pattern
        bytes([3, 1, 1, 101, 1, 0, 0]),  # intensity over 100
        bytes([3, 1, 1, 50, 0, 0, 0]),  # repeat 0
        bytes([3, 1, 4, 50, 1, 0, 0]),  # PULSE without duration
        bytes([3, 1, 4, 50, 1, 0xD1, 0x07]),  # PULSE 2001 ms
        bytes([3, 2, 1, 50, 1, 0, 0]),  # version 2
        bytes([3, 1, 1]),  # short
    ]
    for b in bad:
        assert not pod.cue(b)
    assert not pod.cue(ok, permitted=False)
    assert pod.cues_bad == len(bad) + 1 and pod.cues_played == 1
    fl.close()


def test_start_on_a_full_flash_still_streams():
    fl = Flash(size=8192)
    pod, link, _, _, _ = _pod(fl)
    try:
        for i in range(100):  # other files fill the flash, each one closed
            with fl.fs.open(fl.root + "/junk%d" % i, "wb") as f:
                f.write(bytes(256))
    except OSError:
        pass  # full
    pod.control(_req(1, 1, struct.pack("<I", 5)), link)
    assert _reply(link)[2] == proto.R_OK
    _strides(pod, 3)
    assert _seqs(link.strides) == [0, 1, 2]
    pod.control(_req(11, 2), link)
    assert link.records[-1][4] == 100  # storage_pct
    pod.control(_req(6, 3, struct.pack("<IH", 0, 3)), link)
    _drain(pod)
    assert _seqs(link.records[-3:]) == [0, 1, 2]  # from the RAM ring
    fl.close()


def _flags(rec):
    return struct.unpack_from("<H", rec, 16)[0]


def test_strides_while_the_motor_runs_are_flagged_cued():
    # the IMU shares the case with the motor: strides it shook carry F_CUED
    pod, link, clock, _pwm, fl = _pod()
    pod.on_stride(10000, 700, 210, 2400, 0)
    assert not _flags(link.strides[-1]) & proto.F_CUED
    assert pod.cue(bytes([proto.KIND_CUE, 1, 2, 100, 1, 0, 0]))  # STRIDE: 400 ms on
    clock.advance(200)
    pod.haptics.step(clock())
    pod.on_stride(10700, 700, 210, 2400, 0)  # reported while the motor runs
    assert _flags(link.strides[-1]) & proto.F_CUED
    clock.advance(230)  # off at 400 ms, still spinning down (60 ms)
    pod.haptics.step(clock())
    pod.on_stride(11400, 700, 210, 2400, proto.F_TURN)
    assert _flags(link.strides[-1]) == proto.F_CUED | proto.F_TURN  # other flags kept
    clock.advance(700)
    pod.haptics.step(clock())
    pod.on_stride(12100, 700, 210, 2400, 0)  # the spin-down ended in this stride
    assert _flags(link.strides[-1]) & proto.F_CUED
    pod.on_stride(12800, 700, 210, 2400, 0)
    assert not _flags(link.strides[-1]) & proto.F_CUED  # quiet again
    fl.close()


def _auto_session(pod, n):
    # the pod's own session (app.py calls auto_start on motion) with n strides
    s = pod.auto_start()
    assert s is not None and pod.auto_running()
    _strides(pod, n)
    pod.auto_stop()
    assert not pod.running()
    return s


def _info(pod, link, sid):
    pod.control(_req(12, 30, struct.pack("<H", sid)), link)
    op, _tok, res, pay = _reply(link)
    assert op == 12 and res == 0, res
    return struct.unpack("<HIIIB", pay)


def test_the_pods_own_sessions_are_listed_for_sync():
    pod, link, clock, _, fl = _pod()
    _auto_session(pod, 4)  # the date unknown: no host has told the pod
    pod.control(_req(1, 1, struct.pack("<I", 1700000000)), link)  # a host session
    _strides(pod, 3)
    pod.control(_req(2, 2), link)
    clock.advance(90500)
    _auto_session(pod, 5)  # now the pod knows the date: the host's START + 90 s
    flags = []
    for i in range(3):
        pod.control(_req(7, 3, bytes([i])), link)
        _i, sid, start_s, records, fl_ = struct.unpack("<BHIIB", _reply(link)[3])
        flags.append((sid, start_s, records, fl_))
    assert flags == [
        (1, 0, 4, proto.SF_AUTO),
        (2, 1700000000, 3, 0),
        (3, 1700000090, 5, proto.SF_AUTO),
    ]
    assert _info(pod, link, 3) == (3, 7, 5, 1700000090, proto.SF_AUTO)
    pod.control(_req(12, 4, struct.pack("<H", 9)), link)
    assert _reply(link)[2] == proto.R_NOT_FOUND
    fl.close()


def test_mark_synced_only_for_every_record_of_a_finished_session():
    fl = Flash()
    pod, link, _, _, _ = _pod(fl)
    _auto_session(pod, 6)
    pod.control(_req(13, 1, struct.pack("<HI", 1, 5)), link)
    assert _reply(link)[2] == proto.R_OUT_OF_RANGE  # the host has 5 of 6: nothing changes
    assert _info(pod, link, 1)[4] == proto.SF_AUTO
    pod.control(_req(13, 2, struct.pack("<HI", 1, 6)), link)
    assert _reply(link)[2] == 0 and _reply(link)[3] == struct.pack("<H", 1)
    assert _info(pod, link, 1)[4] == proto.SF_AUTO | proto.SF_SYNCED
    pod.control(_req(13, 3, struct.pack("<HI", 1, 6)), link)
    assert _reply(link)[2] == 0  # again: still OK (a host that lost the first reply)
    pod.control(_req(13, 4, struct.pack("<HI", 7, 6)), link)
    assert _reply(link)[2] == proto.R_NOT_FOUND
    pod.auto_start()
    _strides(pod, 1)
    pod.control(_req(13, 5, struct.pack("<HI", 2, 1)), link)
    assert _reply(link)[2] == proto.R_BUSY  # still running
    pod2, link2, _, _, _ = _pod(fl.snapshot())  # a reboot: the mark is on flash
    assert _info(pod2, link2, 1)[4] == (proto.SF_AUTO | proto.SF_SYNCED | proto.SF_EARLIER_BOOT)
    assert _info(pod2, link2, 2)[4] == proto.SF_AUTO | proto.SF_EARLIER_BOOT
    fl.close()


def test_a_host_start_during_the_pods_session_is_busy_and_takes_it_over():
    pod, link, _, _, fl = _pod()
    pod.auto_start()
    _strides(pod, 2)
    assert pod.state_bits() & 8  # bit3: the pod's own session
    pod.control(_req(1, 1, struct.pack("<I", 1700000000)), link)
    assert _reply(link)[2] == proto.R_BUSY and pod.running()
    assert not pod.auto_running() and not pod.state_bits() & 8
    pod.auto_stop()  # rest no longer ends it
    assert pod.running()
    assert pod.auto_start() is None  # one runs
    pod.control(_req(2, 2), link)
    assert struct.unpack("<HI", _reply(link)[3]) == (1, 2)
    pod.config[8] = 0  # AUTO_START off
    assert pod.auto_start() is None and not pod.running()
    fl.close()
