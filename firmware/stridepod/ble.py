# The BLE link: MicroPython's low-level `bluetooth` API (NimBLE on ESP32-S3,
# BTstack on the Pico 2 W). The GATT table, advertising and security follow
# docs/protocol.md, "GATT table". The BLE object comes in as an argument.
#
# IRQ handler: only stores (event, conn, handle, bits, and a written value or
# the peer's address) in a preallocated queue and sets an asyncio.ThreadSafeFlag;
# run() does the work. The value is copied at once because the next write would
# overwrite it. The secret events and the read request must answer at once: a
# dict lookup / store, nothing more.
#
# Security (docs/protocol.md, "Who may read, write and be notified"): RSC,
# Device Information and Battery are open to any central (watches, phones).
# StrideCue data needs a bonded link: encrypted (the stack enforces the
# `*_ENC` characteristic flags) with keys the pod stored for that peer in the
# pairing window (bonds.py). Checked here: an unbonded control write gets
# NOT_PERMITTED, an unbonded cue is ignored and counted, an unbonded status
# read gets ATT 0x08 (Insufficient Authorization, from _IRQ_GATTS_READ_REQUEST),
# and stride events and status go to bonded links only.
#
# "Bonded" is the stack's own word, from _IRQ_ENCRYPTION_UPDATE: NimBLE says
# bonded only when both sides asked to bond (the pod asks only in the pairing
# window, config(bond=True)) or the link was encrypted with keys the pod gave
# back (_IRQ_GET_SECRET). Its store request follows the encryption update;
# when the pod does not store the keys (window just closed, MAX_BONDS), the
# link loses its bonded bit. After a bond is forgotten, every central whose
# connect address no longer names a bond loses it too (a phone that paired
# from a private address until it reconnects).
#
# Connection slots: at the stack's limit a bonded host could not get in, so
# the pod serves one central fewer than the stack allows and keeps advertising
# while a slot can be freed (an unbonded central is connected). When the spare
# slot fills, a central that has not encrypted within 5 s goes first, else the
# oldest unbonded one; bonded hosts are never dropped.
import bluetooth

from stridepod import proto, rt
from stridepod.bonds import SEC_IRK, Bonds

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_GATTS_INDICATE_DONE = const(20)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)
_EV_NOT_STORED = const(-1)  # ours: the keys of the link being encrypted were not stored

_F_READ = const(0x0002)
_F_WRITE_NR = const(0x0004)
_F_WRITE = const(0x0008)
_F_NOTIFY = const(0x0010)
_F_INDICATE = const(0x0020)
_F_READ_ENC = const(0x0200)
_F_WRITE_ENC = const(0x1000)
_IO_NONE = const(3)  # no input, no output: "just works" pairing

_ENC = const(1)  # connection bits: encrypted
_BONDED = const(2)  # ... with a bond (both: a trusted host)
_TRUSTED = const(3)
_ATT_NOT_AUTHORIZED = const(0x08)
_NO_CONN = const(65535)  # the stack reading a value for gatts_notify(data=None)
_ENCRYPT_MS = const(5000)  # a central not encrypted by then may lose its slot

_Q = const(16)  # queued IRQ events
_VAL = const(20)  # bytes kept per written value (every request fits) or peer key
_IND_Q = const(4)  # indications waiting per connection behind an unconfirmed one
_ADV_US = const(250000)
_ADV_IDLE_US = const(1000000)

# the host stacks MicroPython builds on: connections the stack allows, and
# whether its ATT database needs the lean GATT table (BTstack on the Pico 2 W:
# MAX_NR_HCI_CONNECTIONS 1, MAX_ATT_DB_SIZE 512 bytes in btstack_config_common.h)
STACKS = {"nimble": (4, False), "btstack": (1, True)}

BASE = "82787b06-%s-4303-a03b-6f2592ac8ad5"
SC_UUID = BASE % "0001"
# Device Information: UUID, and which string (see _init_values)
_DIS = ((0x2A29, 0), (0x2A24, 1), (0x2A26, 2), (0x2A27, 3))
_DIS_LEAN = ((0x2A29, 0), (0x2A26, 2))  # manufacturer and firmware revision


def _services(lean=False):
    # the GATT table (docs/protocol.md), built only to register it: after
    # gatts_register_services() its UUID objects and tuples are garbage. The
    # lean table (512-byte ATT database) leaves out the optional Sensor
    # Location and Device Information's model number and hardware revision.
    u = bluetooth.UUID
    loc = () if lean else ((u(0x2A5D), _F_READ),)  # Sensor Location
    rsc = (
        u(0x1814),
        ((u(0x2A53), _F_NOTIFY), (u(0x2A54), _F_READ))  # RSC Measurement, RSC Feature
        + loc
        + ((u(0x2A55), _F_WRITE | _F_INDICATE),),  # SC Control Point
    )
    dis = (u(0x180A), tuple((u(d[0]), _F_READ) for d in (_DIS_LEAN if lean else _DIS)))
    bas = (u(0x180F), ((u(0x2A19), _F_READ | _F_NOTIFY),))
    sc = (
        u(SC_UUID),
        (
            (u(BASE % "0002"), _F_NOTIFY),  # stride events (sent to bonded links)
            (u(BASE % "0003"), _F_WRITE_NR | _F_WRITE_ENC),  # cue
            (u(BASE % "0004"), _F_WRITE | _F_INDICATE | _F_WRITE_ENC),  # control
            (u(BASE % "0005"), _F_READ | _F_NOTIFY | _F_READ_ENC),  # status
        ),
    )
    return (rsc, dis, bas, sc)


def uuid128_le(s):
    # "8278...-..." -> its 16 bytes little-endian, as advertising carries them
    h = s.replace("-", "")
    return bytes(int(h[i : i + 2], 16) for i in range(30, -2, -2))


def adv_payload():
    # flags (LE general discoverable, no BR/EDR) + 128-bit StrideCue + 16-bit RSC
    u = uuid128_le(SC_UUID)
    return b"\x02\x01\x06" + bytes((len(u) + 1, 0x07)) + u + b"\x03\x03\x14\x18"


def resp_payload(name):
    b = name.encode()
    return bytes((len(b) + 1, 0x09)) + b


def pod_name(mac):
    return "StrideCue-%02X%02X" % (mac[-2], mac[-1])


class BleLink:
    def __init__(self, ble, pod, board_title="", fw="0.1.0", bonds_path=None, stack="nimble"):
        self.ble = ble
        self.pod = pod
        self.bonds = Bonds()
        if bonds_path:
            self.bonds.load(bonds_path)
        self.bonds.on_change = self._recheck
        pod.bonds = self.bonds  # LIST_BONDS / FORGET_BOND (service.py)
        self._evq = [0] * (4 * _Q)  # event, conn, handle, bits (or value length)
        self._vals = bytearray(_VAL * _Q)
        self._valmv = memoryview(self._vals)
        self._head = 0
        self._n = 0
        self.lost_events = 0
        self.notify_errors = 0
        self.evicted = 0  # centrals dropped to free a slot
        self.flag = rt.Flag()
        self.conns = {}  # conn -> bits: _ENC, _BONDED
        self._peer = {}  # conn -> (connect time ms, 7-byte key as the stack keeps bonds)
        self._ind = {}  # conn -> [(handle, bytes)] waiting: an indication is unconfirmed
        self._enc_conn = -1  # the link whose encryption update came last (IRQ)
        self.h_status = -1
        self.pairing = False
        stack_conns, lean = STACKS[stack]
        self.serve = max(1, stack_conns - 1)  # centrals served; the rest is the spare
        self._spare = stack_conns > self.serve
        # the handler first: active(True) asks for the identity key (bonds.SEC_IRK)
        ble.irq(self._irq)
        ble.active(True)
        self.name = pod_name(ble.config("mac")[1])
        ble.config(gap_name=self.name)
        self.secure = True
        try:
            ble.config(bond=False, le_secure=True, mitm=False, io=_IO_NONE)
        except (ValueError, OSError):
            self.secure = False  # no pairing on this stack: BLE never bonds (fail closed)
        rsc, dis, bas, sc = ble.gatts_register_services(_services(lean))
        self.h_rsc, self.h_scp = rsc[0], rsc[-1]
        self.h_batt = bas[0]
        self.h_stride, self.h_cue, self.h_ctl, self.h_status = sc
        self._init_values(rsc, dis, _DIS_LEAN if lean else _DIS, board_title, fw)
        self._adv = adv_payload()
        self._resp = resp_payload(self.name)
        self.advertise()

    def _init_values(self, rsc, dis, which, title, fw):
        w = self.ble.gatts_write
        w(rsc[1], b"\x07\x00")  # stride length, total distance, walking/running
        if len(rsc) == 4:
            w(rsc[2], b"\x01")  # Sensor Location: top of shoe
        vals = ("StrideCue", "SC-1", fw, title)
        for i in range(len(which)):
            w(dis[i], vals[which[i][1]].encode())
        w(self.h_batt, b"\x00")  # until the first reading (status task, at start)

    # ---- IRQ: store and signal only (the secret and read events answer at once) ----
    def _irq(self, event, data):
        if event == _IRQ_GATTS_READ_REQUEST:
            return self._may_read(data[0], data[1])
        if event == _IRQ_GET_SECRET:
            return self.bonds.get(data[0], data[1], data[2])
        if event == _IRQ_SET_SECRET:
            ok = self.bonds.set(data[0], data[1], data[2])
            if not ok and data[2] is not None and data[0] != SEC_IRK:
                self._push(_EV_NOT_STORED, self._enc_conn, 0, 0)
            return ok
        bits = 0
        handle = 0
        if event == _IRQ_GATTS_WRITE:
            handle = data[1]
            bits = self._copy_value(handle)
        elif event == _IRQ_CENTRAL_CONNECT:
            bits = self._copy_key(data[1], data[2])
        elif event == _IRQ_ENCRYPTION_UPDATE:
            self._enc_conn = data[0]
            bits = (_ENC if data[1] else 0) | (_BONDED if data[3] else 0)
        elif event != _IRQ_CENTRAL_DISCONNECT and event != _IRQ_GATTS_INDICATE_DONE:
            return None  # MTU, connection updates: nothing to do
        self._push(event, data[0], handle, bits)
        return None

    def _may_read(self, conn, handle):
        # 0 lets a read through; status only to a bonded link (the stack already
        # refused unencrypted ones), and to the stack itself (notify without data)
        if handle != self.h_status or conn == _NO_CONN:
            return 0
        return 0 if self.conns.get(conn, 0) & _TRUSTED == _TRUSTED else _ATT_NOT_AUTHORIZED

    def _slot(self):
        # offset of the value slot the next _push fills, or -1 when the queue is full
        if self._n >= _Q:
            return -1
        return _VAL * ((self._head + self._n) % _Q)

    def _copy_value(self, handle):
        # -> length; the written bytes go to the slot the next _push fills
        o = self._slot()
        if o < 0:
            return 0
        v = self.ble.gatts_read(handle)
        n = min(len(v), _VAL)
        self._vals[o : o + n] = v[:n]
        return n

    def _copy_key(self, addr_type, addr):
        # the peer's key as the stack files its bond: type, address LSB first
        o = self._slot()
        if o < 0:
            return 0
        self._vals[o] = addr_type
        for i in range(6):
            self._vals[o + 1 + i] = addr[5 - i]
        return 7

    def _push(self, event, conn, handle, bits):
        if self._n >= _Q:
            self.lost_events += 1
            return
        i = 4 * ((self._head + self._n) % _Q)
        q = self._evq
        q[i] = event
        q[i + 1] = conn
        q[i + 2] = handle
        q[i + 3] = bits
        self._n += 1
        self.flag.set()

    # ---- the task ----
    async def run(self):
        while True:
            await self.flag.wait()
            self.process()

    def process(self):
        # handle every queued event (also called directly by tests)
        while self._n:
            i = 4 * self._head
            q = self._evq
            ev, conn, handle, bits = q[i], q[i + 1], q[i + 2], q[i + 3]
            o = _VAL * self._head
            if ev == _IRQ_GATTS_WRITE:
                self._write(conn, handle, self._valmv[o : o + bits])
            elif ev == _IRQ_CENTRAL_CONNECT:
                self._connected(conn, bytes(self._valmv[o : o + bits]))
            else:
                self._event(ev, conn, bits)
            self._head = (self._head + 1) % _Q
            self._n -= 1

    def _event(self, ev, conn, bits):
        if ev == _IRQ_GATTS_INDICATE_DONE:
            self._next_indication(conn)
        elif ev == _IRQ_CENTRAL_DISCONNECT:
            self._gone(conn)
            self.advertise()
        elif conn not in self.conns:
            pass
        elif ev == _IRQ_ENCRYPTION_UPDATE:
            self.conns[conn] = bits
            self.advertise()  # a bonded host may have taken the last slot
            self.pod.publish_status()
        elif ev == _EV_NOT_STORED:
            self.conns[conn] &= ~_BONDED
            self.advertise()

    def _connected(self, conn, key):
        self._gone(conn)  # the stack reuses handles: nothing of an earlier link stays
        self.conns[conn] = 0
        self._peer[conn] = (self.pod.clock_ms(), key)
        if len(self.conns) > self.serve:
            self._free_slot(conn)
        self.advertise()

    def _gone(self, conn):
        if self.conns.pop(conn, None) is not None:
            self.pod.drop_conn(self, conn)
        self._peer.pop(conn, None)
        self._ind.pop(conn, None)

    def _free_slot(self, new):
        # the spare slot filled: drop a central that has not encrypted within
        # _ENCRYPT_MS, else the oldest unbonded one; the newcomer only when every
        # other central is a bonded host
        now = self.pod.clock_ms()
        victim, rank = new, -1
        for conn, bits in self.conns.items():
            if conn == new or bits & _TRUSTED == _TRUSTED:
                continue
            age = rt.ticks_diff(now, self._peer[conn][0])
            r = age + (1 << 24 if not bits & _ENC and age >= _ENCRYPT_MS else 0)
            if r > rank:
                victim, rank = conn, r
        self.evicted += 1
        self.ble.gap_disconnect(victim)

    def _recheck(self):
        # bonds were forgotten: a link whose peer has no bond left is no longer trusted
        for conn, bits in self.conns.items():
            if bits & _BONDED and not self.bonds.has(self._peer[conn][1]):
                self.conns[conn] = bits & ~_BONDED
        self.advertise()

    def _write(self, conn, handle, value):
        bonded = self.conns.get(conn, 0) & _TRUSTED == _TRUSTED
        if handle == self.h_ctl:
            self.pod.control(value, self, conn, bonded)
        elif handle == self.h_cue:
            self.pod.cue(value, bonded)
        elif handle == self.h_scp:
            self._sc_control(conn, value)

    def _sc_control(self, conn, v):
        # RSC SC Control Point, response 10 op result. Supported: 01 set the total
        # distance (the Total Distance feature). Not supported: 02 calibration, 03/04
        # sensor locations (the Multiple Sensor Locations feature bit is 0).
        # The profile wants ATT 0x81 for a write while indications are off; MicroPython
        # shows a peripheral neither the CCCD nor a way to refuse a write
        # (docs/protocol.md), so every write gets its indication.
        op = v[0] if len(v) else 0
        res = 2  # op code not supported
        if op == 1 and len(v) == 5:
            self.pod.distance_mm = (v[1] | v[2] << 8 | v[3] << 16 | v[4] << 24) * 100
            res = 1
        elif op == 1:
            res = 3  # invalid parameter
        self._indicate(conn, self.h_scp, bytes((0x10, op, res)))

    # ---- indications: ATT allows one unconfirmed per connection ----
    def _indicate(self, conn, handle, data):
        # send now, or queue behind the indication the central has not confirmed
        q = self._ind.get(conn)
        if q is not None:
            if len(q) >= _IND_Q:
                q.pop(0)  # the oldest waiting reply is lost: its requester times out
                self.notify_errors += 1
            q.append((handle, bytes(data)))
            return
        try:
            self.ble.gatts_indicate(conn, handle, data)
            self._ind[conn] = []  # sent: the next waits for the confirmation
        except (OSError, ValueError):
            self.notify_errors += 1

    def _next_indication(self, conn):
        # the central confirmed: send the next waiting one, if any
        q = self._ind.pop(conn, None)
        while q:
            handle, data = q.pop(0)
            try:
                self.ble.gatts_indicate(conn, handle, data)
                self._ind[conn] = q
                return
            except (OSError, ValueError):
                self.notify_errors += 1

    # ---- advertising and pairing ----
    def advertise(self):
        # advertise while a central can connect: a free slot, or the spare one
        # while some central could make way for a bonded host; else stop
        n = len(self.conns)
        if n > self.serve or (n == self.serve and not (self._spare and self._unbonded())):
            interval = None
        elif self.pod.running() or self.pairing:
            interval = _ADV_US
        else:
            interval = _ADV_IDLE_US
        try:
            self.ble.gap_advertise(interval, self._adv, resp_data=self._resp)
        except OSError:
            self.lost_events += 1  # the stack has no slot after all: the next event retries

    def _unbonded(self):
        return any(bits & _TRUSTED != _TRUSTED for bits in self.conns.values())

    def set_pairing(self, on):
        self.pairing = bool(on) and self.secure
        self.pod.pairing = self.pairing
        self.bonds.accept = self.pairing
        if self.secure:
            self.ble.config(bond=self.pairing)
        self.pod.publish_status()

    def save_secrets(self, path):
        # bonds survive a reboot (the app's status task, every 10 s if changed)
        return self.bonds.save(path)

    def set_battery(self, pct):
        if pct > 100:
            return  # unknown (no cell reading): Battery Level allows 0..100 only
        self.ble.gatts_write(self.h_batt, bytes((pct,)))
        for conn in self.conns:
            self._notify(conn, self.h_batt, None)

    # ---- the link interface used by service.Pod ----
    def _notify(self, conn, handle, data):
        try:
            self.ble.gatts_notify(conn, handle, data)
            return True
        except (OSError, ValueError):
            self.notify_errors += 1
            return False

    def stride(self, rec, n, rsc, rn):
        mr = memoryview(rec)[:n]
        mc = memoryview(rsc)[:rn]
        for conn, bits in self.conns.items():
            self._notify(conn, self.h_rsc, mc)
            if bits & _TRUSTED == _TRUSTED:
                self._notify(conn, self.h_stride, mr)

    def reply(self, conn, buf, n):
        self._indicate(conn, self.h_ctl, memoryview(buf)[:n])

    def record(self, conn, buf, n):
        if self.conns.get(conn, 0) & _TRUSTED != _TRUSTED:
            return True  # gone or no longer bonded: drop quietly
        h = self.h_status if buf[0] == proto.KIND_STATUS else self.h_stride
        try:
            self.ble.gatts_notify(conn, h, memoryview(buf)[:n])
            return True
        except OSError:
            return False  # controller buffers full: try again later

    def status(self, buf, n):
        mv = memoryview(buf)[:n]
        self.ble.gatts_write(self.h_status, mv)
        for conn, bits in self.conns.items():
            if bits & _TRUSTED == _TRUSTED:
                self._notify(conn, self.h_status, mv)

    def hosts(self):
        # StrideCue hosts: bonded centrals (a watch reading RSC or a stranger is
        # not one; the pod's own cues go on while only such centrals are connected)
        n = 0
        for bits in self.conns.values():
            if bits & _TRUSTED == _TRUSTED:
                n += 1
        return n
