# ble.py against the `bluetooth` fake: GATT table, advertising size, open vs
# encrypted/bonded characteristics, pairing window, several centrals,
# notifications within the MTU, backfill under congestion, RSC control point.
import struct
import sys

sys.path.insert(0, "tests/firmware/fakes")

import bluetooth  # the fake (the unix port has no bluetooth module)
from fakes.hw import PWM, Clock, Pin
from fakes.ramfs import Flash
from stridepod import ble as bl
from stridepod import proto
from stridepod.haptics import Haptics
from stridepod.service import Pod
from stridepod.store import Store

U = bluetooth.UUID


def _setup():
    fl = Flash()
    clock = Clock(1000)
    pwm = PWM(Pin(7), freq=20000)
    pod = Pod(clock, Store(fl.root, fl.fs).open(), Haptics(pwm, clock), battery=lambda: 80)
    radio = bluetooth.BLE()
    link = bl.BleLink(radio, pod, "XIAO ESP32S3", "0.1.0")
    pod.links.append(link)
    return pod, link, radio, pwm, fl


def _bonded(radio, link, addr=b"\x01\x02\x03\x04\x05\x06"):
    link.set_pairing(True)
    c = radio.connect(addr)
    c.pair()
    link.process()
    link.set_pairing(False)
    return c


def _h(radio, short):
    return radio.handle_of(U(bl.BASE % short))


def test_advertising_fits_and_names_the_pod():
    _pod, _link, radio, _, fl = _setup()
    _interval, adv, resp, connectable = radio.adv
    assert len(adv) == 25 and len(resp) == 16 and connectable
    assert adv[:3] == b"\x02\x01\x06" and adv[3:5] == b"\x11\x07"
    assert bytes(reversed(adv[5:21])).hex() == bl.SC_UUID.replace("-", "")
    assert adv[21:] == b"\x03\x03\x14\x18"
    assert resp == b"\x0f\x09StrideCue-ABCD" and radio.config("gap_name") == "StrideCue-ABCD"
    try:
        radio.gap_advertise(100000, adv + bytes(7))
    except ValueError:
        pass
    else:
        raise AssertionError("the fake took a 32-byte advertisement")
    fl.close()


def test_open_characteristics_for_anyone():
    _pod, link, radio, _, fl = _setup()
    c = radio.connect()
    link.process()
    assert c.read(radio.handle_of(U(0x2A54))) == (0, b"\x07\x00")
    assert c.read(radio.handle_of(U(0x2A5D))) == (0, b"\x01")
    assert c.read(radio.handle_of(U(0x2A29))) == (0, b"StrideCue")
    assert c.read(radio.handle_of(U(0x2A26))) == (0, b"0.1.0")
    assert c.read(radio.handle_of(U(0x2A27))) == (0, b"XIAO ESP32S3")
    link.set_battery(80)
    assert c.read(radio.handle_of(U(0x2A19))) == (0, b"\x50")
    fl.close()


def test_stranger_cannot_cue_control_or_read_status():
    pod, link, radio, pwm, fl = _setup()
    c = radio.connect()
    link.process()
    cue = bytes([3, 1, 1, 100, 1, 0, 0])
    assert c.write(_h(radio, "0003"), cue, with_response=False) == 0x0F
    assert c.write(_h(radio, "0004"), bytes([4, 1, 10, 1])) == 0x0F
    assert c.read(_h(radio, "0005"))[0] == 0x0F
    c.pair()  # encrypted, but not bonded: the pod is not in pairing mode
    link.process()
    assert not c.bonded
    assert c.write(_h(radio, "0003"), cue, with_response=False) == 0
    c.write(_h(radio, "0004"), bytes([4, 1, 10, 1]) + struct.pack("<H", 1))
    link.process()
    assert pwm.duty_u16() == 0 and pod.cues_bad == 1
    assert c.indicated[-1][1][4] == proto.R_NOT_PERMITTED
    assert pod.store.sessions == []
    fl.close()


def test_bonded_central_controls_and_gets_strides():
    pod, link, radio, pwm, fl = _setup()
    c = _bonded(radio, link)
    assert c.bonded and radio.cfg["bond"] is False  # window closed again
    c.write(_h(radio, "0004"), bytes([4, 1, 1, 7]) + struct.pack("<I", 1700000000))
    link.process()
    h, rep = c.indicated[-1]
    assert h == _h(radio, "0004") and rep[:5] == bytes([5, 1, 1, 7, 0])
    pod.on_stride(5000, 700, 210, 2450, 0)
    c.pump()
    got = dict((h, v) for h, v in c.notified)
    assert got[_h(radio, "0002")][:2] == b"\x01\x01" and len(got[_h(radio, "0002")]) == 18
    assert len(got[radio.handle_of(U(0x2A53))]) == 10
    assert got[_h(radio, "0005")][0] == 2  # status notified on session start
    c.write(_h(radio, "0003"), bytes([3, 1, 2, 100, 1, 0, 0]), with_response=False)
    link.process()
    assert pwm.duty_u16() > 0 and pod.cues_played == 1
    fl.close()


def test_bond_survives_reconnect_only_with_stored_keys():
    _pod, link, radio, _, fl = _setup()
    c = _bonded(radio, link)
    c.disconnect()
    link.process()
    c2 = radio.connect(b"\x01\x02\x03\x04\x05\x06")
    assert c2.reencrypt()
    link.process()
    c2.write(_h(radio, "0004"), bytes([4, 1, 3, 1]))
    link.process()
    assert c2.indicated[-1][1][4] == 0
    c3 = radio.connect(b"\x09\x09\x09\x09\x09\x09")
    assert not c3.reencrypt()  # never bonded
    fl.close()


def test_several_centrals_and_unencrypted_get_only_rsc():
    pod, link, radio, _, fl = _setup()
    coach = _bonded(radio, link)
    assert radio.advertising  # room for more centrals
    watch = radio.connect(b"\x0a\x0b\x0c\x0d\x0e\x0f")
    link.process()
    third = radio.connect(b"\x0a\x0b\x0c\x0d\x0e\x10")
    link.process()
    assert len(link.conns) == 3 and not radio.advertising  # MAX_CONN reached
    pod.on_stride(5000, 700, 210, 2450, 0)
    for c in (coach, watch, third):
        c.pump()
    rsc = radio.handle_of(U(0x2A53))
    assert [h for h, _ in watch.notified] == [rsc]
    assert [h for h, _ in coach.notified if h != _h(radio, "0005")] == [rsc, _h(radio, "0002")]
    third.disconnect()
    link.process()
    assert radio.advertising and len(link.conns) == 2
    fl.close()


def test_backfill_over_notifications_waits_when_congested():
    pod, link, radio, _, fl = _setup()
    c = _bonded(radio, link)
    c.write(_h(radio, "0004"), bytes([4, 1, 1, 1]) + struct.pack("<I", 5))
    link.process()
    for i in range(40):
        pod.on_stride(1000 + i * 700, 700, 200, 2400, 0)
        c.pump()
    c.notified = []
    c.write(_h(radio, "0004"), bytes([4, 1, 6, 2]) + struct.pack("<IH", 0, 40))
    link.process()
    assert c.indicated[-1][1] == bytes([5, 1, 6, 2, 0]) + struct.pack("<IH", 0, 40)
    rounds = 0
    while pod.pump():
        rounds += 1
        if rounds % 3 == 0:
            c.pump()  # the radio drains now and then
    c.pump()
    seqs = [struct.unpack_from("<I", v, 2)[0] for h, v in c.notified if h == _h(radio, "0002")]
    assert seqs == list(range(40)) and rounds > 5
    fl.close()


def test_notifications_respect_mtu_and_unknown_handles_fail():
    _pod, link, radio, _, fl = _setup()
    c = radio.connect()
    link.process()
    try:
        radio.gatts_notify(c.conn, link.h_rsc, bytes(21))
    except ValueError:
        pass
    else:
        raise AssertionError("21 bytes notified at MTU 23")
    try:
        radio.gatts_write(999, b"x")
    except OSError:
        pass
    else:
        raise AssertionError("unknown handle written")
    assert proto.STRIDE_SIZE <= 20 and proto.STATUS_SIZE <= 20
    fl.close()


def test_rsc_control_point():
    pod, link, radio, _, fl = _setup()
    c = radio.connect()
    link.process()
    scp = radio.handle_of(U(0x2A55))
    c.write(scp, b"\x01" + struct.pack("<I", 12345))
    c.write(scp, b"\x03\x02")
    c.write(scp, b"\x04")
    c.write(scp, b"\x07")
    link.process()
    assert len(c.indicated) == 1  # one indication unconfirmed at a time: the rest wait
    for _ in range(3):
        c.pump()  # the central confirms; the pod sends the next
        link.process()
    assert [v for _, v in c.indicated] == [
        b"\x10\x01\x01",
        b"\x10\x03\x03",
        b"\x10\x04\x01\x01",
        b"\x10\x07\x02",
    ]
    assert pod.distance_mm == 1234500
    fl.close()


def test_control_replies_wait_for_the_confirmation_and_none_is_lost():
    # a host firing several requests at once gets every reply, in order
    _pod, link, radio, _, fl = _setup()
    c = _bonded(radio, link)
    ctl = _h(radio, "0004")
    for token in (1, 2, 3):
        c.write(ctl, bytes([4, 1, 0x09, token]))  # IDENTIFY x3
    link.process()
    got = [v[3] for _, v in c.indicated]
    assert got == [1]
    c.pump()
    link.process()
    c.pump()
    link.process()
    assert [v[3] for _, v in c.indicated] == [1, 2, 3] and link.notify_errors == 0
    c.disconnect()  # a reply still waiting for a gone central is dropped with it
    link.process()
    assert link._ind == {}
    fl.close()


def test_irq_only_queues():
    _pod, link, radio, _, fl = _setup()
    c = radio.connect()
    assert not link.conns and link._n == 1  # nothing done until the task runs
    link.process()
    assert len(link.conns) == 1
    for _ in range(40):
        c.write(radio.handle_of(U(0x2A55)), b"\x04")
    assert link.lost_events == 40 - 16
    fl.close()


def test_bonds_survive_a_reboot_and_can_be_forgotten():
    import os

    _pod, link, radio, _, fl = _setup()
    _bonded(radio, link)
    path = fl.root + "-bonds.bin"
    assert link.save_secrets(path) and not link.save_secrets(path)  # only when changed
    _pod2, link2, radio2, _, fl2 = _setup()
    assert link2.load_secrets(path) == 1
    c = radio2.connect(b"\x01\x02\x03\x04\x05\x06")
    assert c.reencrypt()
    link2._irq(30, (1, b"peer-\x01\x02\x03\x04\x05\x06", None))  # the stack drops the bond
    assert link2.secrets == {} and link2.secrets_dirty
    with open(path, "ab") as f:
        f.write(b"\x01\x20abc")  # a torn record after the good one
    _, link3, _, _, fl3 = _setup()
    assert link3.load_secrets(path) == 1
    os.remove(path)
    for f in (fl, fl2, fl3):
        f.close()


def test_stack_without_pairing_fails_closed():
    fl = Flash()
    clock = Clock(0)
    pod = Pod(clock, Store(fl.root, fl.fs).open())
    radio = bluetooth.BLE()
    real = radio.config

    def no_security(*a, **kw):
        if "le_secure" in kw or "bond" in kw:
            raise ValueError("unknown config param")
        return real(*a, **kw)

    radio.config = no_security
    link = bl.BleLink(radio, pod, "pico", "0.1.0")
    link.set_pairing(True)
    assert not link.secure and not pod.pairing
    fl.close()
