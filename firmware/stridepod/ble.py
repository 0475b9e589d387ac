# The BLE link: MicroPython's low-level `bluetooth` API (NimBLE on ESP32-S3,
# BTstack on the Pico 2 W). The GATT table, advertising and security follow
# docs/protocol.md, "GATT table". The BLE object comes in as an argument.
#
# IRQ handler: only stores (event, conn, handle, bits, and a written value) in
# a preallocated queue and sets an asyncio.ThreadSafeFlag; run() does the work.
# The value is copied at once because the next write would overwrite it. The two secret
# events must answer synchronously: a dict lookup / store, nothing more.
#
# Security: cue and control need an encrypted link (the stack enforces the
# characteristic flags) and a bonded one (checked here: an unbonded write to
# control gets NOT_PERMITTED, an unbonded cue is ignored and counted). Stride
# and status notifications go only to encrypted links; RSC, Device
# Information and Battery are open. Keys are stored (bonding) only while the
# pod is in pairing mode (set_pairing(True), a long button press, 60 s).
import bluetooth

from stridepod import proto, rt

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_INDICATE_DONE = const(20)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

_F_READ = const(0x0002)
_F_WRITE_NR = const(0x0004)
_F_WRITE = const(0x0008)
_F_NOTIFY = const(0x0010)
_F_INDICATE = const(0x0020)
_F_READ_ENC = const(0x0200)
_F_WRITE_ENC = const(0x1000)
_IO_NONE = const(3)  # no input, no output: "just works" pairing

MAX_CONN = const(3)  # coach laptop + watch + spare
_Q = const(16)  # queued IRQ events
_VAL = const(20)  # bytes kept per written value (every request fits)
_IND_Q = const(4)  # indications waiting per connection behind an unconfirmed one
_ADV_US = const(250000)
_ADV_IDLE_US = const(1000000)

BASE = "82787b06-%s-4303-a03b-6f2592ac8ad5"
SC_UUID = BASE % "0001"


def _services():
    # the GATT table (docs/protocol.md), built only to register it: after
    # gatts_register_services() its UUID objects and tuples are garbage
    u = bluetooth.UUID
    rsc = (
        u(0x1814),
        (
            (u(0x2A53), _F_NOTIFY),  # RSC Measurement
            (u(0x2A54), _F_READ),  # RSC Feature
            (u(0x2A5D), _F_READ),  # Sensor Location
            (u(0x2A55), _F_WRITE | _F_INDICATE),  # SC Control Point
        ),
    )
    dis = (
        u(0x180A),
        (
            (u(0x2A29), _F_READ),
            (u(0x2A24), _F_READ),
            (u(0x2A26), _F_READ),
            (u(0x2A27), _F_READ),
        ),
    )
    bas = (u(0x180F), ((u(0x2A19), _F_READ | _F_NOTIFY),))
    sc = (
        u(SC_UUID),
        (
            (u(BASE % "0002"), _F_NOTIFY),  # stride events (sent to encrypted links)
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
    def __init__(self, ble, pod, board_title="", fw="0.1.0", secrets=None):
        self.ble = ble
        self.pod = pod
        ble.active(True)
        self.name = pod_name(ble.config("mac")[1])
        ble.config(gap_name=self.name)
        self.secure = True
        try:
            ble.config(bond=False, le_secure=True, mitm=False, io=_IO_NONE)
        except (ValueError, OSError):
            self.secure = False  # no pairing on this stack: BLE never bonds (fail closed)
        self.secrets = secrets if secrets is not None else {}
        self.secrets_dirty = False
        self._evq = [0] * (4 * _Q)  # event, conn, handle, bits (or value length)
        self._vals = bytearray(_VAL * _Q)
        self._valmv = memoryview(self._vals)
        self._head = 0
        self._n = 0
        self.lost_events = 0
        self.flag = rt.Flag()
        rsc, dis, bas, sc = ble.gatts_register_services(_services())
        self.h_rsc, h_feature, h_location, self.h_scp = rsc
        self.h_batt = bas[0]
        self.h_stride, self.h_cue, self.h_ctl, self.h_status = sc
        self._init_values(h_feature, h_location, dis, board_title, fw)
        self.conns = {}  # conn -> bits: 1 encrypted, 2 bonded
        self._ind = {}  # conn -> [(handle, bytes)] waiting: an indication is unconfirmed
        self.pairing = False
        self.notify_errors = 0
        self._adv = adv_payload()
        self._resp = resp_payload(self.name)
        ble.irq(self._irq)
        self.advertise()

    def _init_values(self, h_feature, h_location, dis, title, fw):
        w = self.ble.gatts_write
        w(h_feature, b"\x07\x00")  # stride length, total distance, walking/running
        w(h_location, b"\x01")  # top of shoe
        vals = ("StrideCue", "SC-1", fw, title)
        for i in range(4):
            w(dis[i], vals[i].encode())
        w(self.h_batt, b"\x00")  # until the first reading (status task, at start)

    # ---- IRQ: store and signal only ----
    def _irq(self, event, data):
        if event == _IRQ_GET_SECRET:
            return self._get_secret(data[0], data[1], data[2])
        if event == _IRQ_SET_SECRET:
            key = (data[0], bytes(data[1]))
            if data[2] is None:  # the stack forgets a bond
                self.secrets.pop(key, None)
                self.secrets_dirty = True
                return True
            if not self.pairing:
                return False  # bonding only in pairing mode
            self.secrets[key] = bytes(data[2])
            self.secrets_dirty = True
            return True
        bits = 0
        handle = 0
        if event == _IRQ_GATTS_WRITE:
            handle = data[1]
            bits = self._copy_value(handle)
        elif event == _IRQ_ENCRYPTION_UPDATE:
            bits = (1 if data[1] else 0) | (2 if data[3] else 0)
        elif (
            event != _IRQ_CENTRAL_CONNECT
            and event != _IRQ_CENTRAL_DISCONNECT
            and event != _IRQ_GATTS_INDICATE_DONE
        ):
            return None  # MTU, connection updates: nothing to do
        self._push(event, data[0], handle, bits)
        return None

    def _get_secret(self, sec_type, index, key):
        if key is not None:
            return self.secrets.get((sec_type, bytes(key)))
        i = 0  # no key: the index-th secret of that type
        for t, v in self.secrets.items():
            if t[0] == sec_type:
                if i == index:
                    return v
                i += 1
        return None

    def _copy_value(self, handle):
        # -> length; the bytes go to the slot the next _push fills
        if self._n >= _Q:
            return 0
        v = self.ble.gatts_read(handle)
        n = min(len(v), _VAL)
        o = _VAL * ((self._head + self._n) % _Q)
        self._vals[o : o + n] = v[:n]
        return n

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
            if ev == _IRQ_GATTS_WRITE:
                o = _VAL * self._head
                self._write(conn, handle, self._valmv[o : o + bits])
            else:
                self._event(ev, conn, handle, bits)
            self._head = (self._head + 1) % _Q
            self._n -= 1

    def _event(self, ev, conn, handle, bits):
        if ev == _IRQ_CENTRAL_CONNECT:
            self.conns[conn] = 0
            self.advertise()
            self.pod.publish_status()
        elif ev == _IRQ_GATTS_INDICATE_DONE:
            self._next_indication(conn)
        elif ev == _IRQ_CENTRAL_DISCONNECT:
            self._ind.pop(conn, None)
            self.conns.pop(conn, None)
            self.pod.drop_conn(self, conn)
            self.advertise()
        elif ev == _IRQ_ENCRYPTION_UPDATE and conn in self.conns:
            self.conns[conn] = bits

    def _write(self, conn, handle, value):
        bonded = self.conns.get(conn, 0) & 3 == 3
        if handle == self.h_ctl:
            self.pod.control(value, self, conn, bonded)
        elif handle == self.h_cue:
            self.pod.cue(value, bonded)
        elif handle == self.h_scp:
            self._sc_control(conn, value)

    def _sc_control(self, conn, v):
        # RSC SC Control Point: 01 set total distance, 03 sensor location, 04 list
        op = v[0] if len(v) else 0
        res = 2  # op code not supported
        extra = b""
        if op == 1 and len(v) == 5:
            self.pod.distance_mm = (v[1] | v[2] << 8 | v[3] << 16 | v[4] << 24) * 100
            res = 1
        elif op == 3 and len(v) == 2:
            res = 1 if v[1] == 1 else 3
        elif op == 4 and len(v) == 1:
            res = 1
            extra = b"\x01"
        elif op in (1, 3, 4):
            res = 3  # invalid parameter
        self._indicate(conn, self.h_scp, bytes((0x10, op, res)) + extra)

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
        if len(self.conns) >= MAX_CONN:
            return
        interval = _ADV_US if self.pod.running() or self.pairing else _ADV_IDLE_US
        self.ble.gap_advertise(interval, self._adv, resp_data=self._resp)

    def set_pairing(self, on):
        self.pairing = bool(on) and self.secure
        self.pod.pairing = self.pairing
        if self.secure:
            self.ble.config(bond=self.pairing)
        self.pod.publish_status()

    # ---- bonds survive a reboot: (type, key, value) records in a small file ----
    def save_secrets(self, path):
        if not self.secrets_dirty:
            return False
        try:
            with open(path, "wb") as f:
                for (t, k), v in self.secrets.items():
                    f.write(bytes((t, len(k))) + k + bytes((len(v),)) + v)
            self.secrets_dirty = False
            return True
        except OSError:
            return False

    def load_secrets(self, path):
        try:
            with open(path, "rb") as f:
                b = f.read()
        except OSError:
            return 0
        i = 0
        while i + 2 <= len(b):
            t, kl = b[i], b[i + 1]
            k = b[i + 2 : i + 2 + kl]
            j = i + 2 + kl
            if j >= len(b) or j + 1 + b[j] > len(b):
                break  # torn tail
            self.secrets[(t, bytes(k))] = bytes(b[j + 1 : j + 1 + b[j]])
            i = j + 1 + b[j]
        return len(self.secrets)

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
            if bits & 1:
                self._notify(conn, self.h_stride, mr)

    def reply(self, conn, buf, n):
        self._indicate(conn, self.h_ctl, memoryview(buf)[:n])

    def record(self, conn, buf, n):
        if conn not in self.conns:
            return True  # gone: drop quietly (pod.drop_conn ends the job)
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
            if bits & 1:
                self._notify(conn, self.h_status, mv)

    def hosts(self):
        # StrideCue hosts: bonded centrals (a watch reading RSC is not one; the
        # pod's own cues go on while only such centrals are connected)
        n = 0
        for bits in self.conns.values():
            if bits & 3 == 3:
                n += 1
        return n
