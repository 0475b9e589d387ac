# A fake of MicroPython's `bluetooth` module (docs.micropython.org, "bluetooth
# - low-level Bluetooth"), peripheral role, with the centrals driven by the test.
# The unix port has no `bluetooth`, so this file is what `import bluetooth`
# finds when tests/firmware/fakes is on the path.
#
# What real hardware/NimBLE would reject, this rejects:
#   - advertising or scan-response payloads over 31 bytes (ValueError)
#   - gap_advertise / gatts_* while the radio is off (OSError)
#   - notify/indicate payloads over ATT_MTU - 3 (ValueError), to an unknown
#     connection (OSError ENOTCONN) or an unknown handle (OSError ENOENT)
#   - a central writing or reading a characteristic without the property, or
#     without an encrypted link where the characteristic's security flags
#     need one (ATT error returned to the central, no IRQ on the pod)
#   - more than 8 notifications queued on one connection (OSError ENOMEM,
#     drained by Central.pump(), like the controller's buffers)
#   - a second indication on a connection before the central has confirmed
#     the first (ATT allows one outstanding; OSError EALREADY); the central
#     confirms in pump(), and the pod then gets _IRQ_GATTS_INDICATE_DONE
#   - writes longer than the characteristic buffer (default 20) are truncated
# Pairing: a central pairs; the stack asks the pod to store the keys through
# _IRQ_SET_SECRET only when bond=True is configured, and the link counts as
# bonded only if the pod's handler returned True. Reconnecting with stored keys
# asks _IRQ_GET_SECRET.
FLAG_BROADCAST = 0x0001
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020
_READ_ENC = 0x0200
_READ_AUTHN = 0x0400
_WRITE_ENC = 0x1000
_WRITE_AUTHN = 0x2000

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_GATTS_INDICATE_DONE = 20
_IRQ_MTU_EXCHANGED = 21
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_GET_SECRET = 29
_IRQ_SET_SECRET = 30

ATT_OK = 0
ATT_READ_NOT_PERMITTED = 0x02
ATT_WRITE_NOT_PERMITTED = 0x03
ATT_INSUFFICIENT_ENCRYPTION = 0x0F

_TX_QUEUE = 8


class UUID:
    def __init__(self, value):
        if isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("invalid UUID")
            self._b = bytes([value & 0xFF, value >> 8])
        elif isinstance(value, str):
            h = value.replace("-", "")
            if len(h) != 32 or value.count("-") != 4:
                raise ValueError("invalid UUID")
            self._b = bytes(reversed(bytes.fromhex(h)))  # stored little-endian
        else:
            raise TypeError("UUID needs an int or a str")

    def __bytes__(self):
        return self._b

    def __eq__(self, other):
        return isinstance(other, UUID) and self._b == other._b

    def __hash__(self):
        return hash(self._b)

    def __repr__(self):
        return "UUID(%s)" % self._b.hex()


class _Attr:
    def __init__(self, handle, uuid, flags):
        self.handle = handle
        self.uuid = uuid
        self.flags = flags
        self.value = b""
        self.size = 20
        self.append = False
        self.cccd = None  # handle of its CCCD, when notify/indicate


class Central:
    # the far end of one connection, driven by the test
    def __init__(self, ble, conn, addr):
        self.ble = ble
        self.conn = conn
        self.addr = addr
        self.mtu = 23
        self.encrypted = False
        self.bonded = False
        self.notified = []  # (value_handle, bytes)
        self.indicated = []
        self.queue = []  # notifications not yet taken off the air
        self.awaiting = None  # handle of an indication not yet confirmed
        self.connected = True

    def write(self, handle, data, with_response=True):
        a = self.ble._attr(handle)
        need = FLAG_WRITE if with_response else FLAG_WRITE_NO_RESPONSE
        if not a.flags & need:
            return ATT_WRITE_NOT_PERMITTED
        if a.flags & (_WRITE_ENC | _WRITE_AUTHN) and not self.encrypted:
            return ATT_INSUFFICIENT_ENCRYPTION
        data = bytes(data)
        a.value = (a.value + data if a.append else data)[: a.size]
        self.ble._irq(_IRQ_GATTS_WRITE, (self.conn, handle))
        return ATT_OK

    def read(self, handle):
        a = self.ble._attr(handle)
        if not a.flags & FLAG_READ:
            return ATT_READ_NOT_PERMITTED, None
        if a.flags & (_READ_ENC | _READ_AUTHN) and not self.encrypted:
            return ATT_INSUFFICIENT_ENCRYPTION, None
        return ATT_OK, a.value

    def pair(self):
        # LE Secure Connections "just works": encrypted; bonded if the pod keeps keys
        self.encrypted = True
        keep = False
        if self.ble.cfg.get("bond"):
            keep = bool(self.ble._irq(_IRQ_SET_SECRET, (1, b"peer-" + self.addr, b"ltk")))
        self.bonded = keep
        if keep:
            self.ble.bonded_peers.add(self.addr)
        self.ble._irq(_IRQ_ENCRYPTION_UPDATE, (self.conn, 1, 0, 1 if keep else 0, 16))

    def reencrypt(self):
        # a central that bonded earlier starts encryption with its stored keys
        ltk = self.ble._irq(_IRQ_GET_SECRET, (1, 0, b"peer-" + self.addr))
        if not ltk:
            return False
        self.encrypted = self.bonded = True
        self.ble._irq(_IRQ_ENCRYPTION_UPDATE, (self.conn, 1, 0, 1, 16))
        return True

    def exchange_mtu(self, mtu):
        self.mtu = mtu
        self.ble._irq(_IRQ_MTU_EXCHANGED, (self.conn, mtu))

    def pump(self):
        # the radio sends what was queued; an indication is confirmed
        self.notified.extend(self.queue)
        self.queue = []
        if self.awaiting is not None:
            h, self.awaiting = self.awaiting, None
            self.ble._irq(_IRQ_GATTS_INDICATE_DONE, (self.conn, h, 0))

    def disconnect(self):
        self.ble._drop(self.conn, 0x13)


class BLE:
    def __init__(self, mac=b"\x24\x0a\xc4\x12\xab\xcd"):
        self._active = False
        self._handler = None
        self._attrs = {}
        self.cfg = {"mac": (0, mac), "gap_name": "MPY", "bond": False, "mtu": 23}
        self.adv = None  # (interval_us, adv_data, resp_data, connectable)
        self.advertising = False
        self.centrals = {}
        self.bonded_peers = set()
        self._next_conn = 1
        self.notify_count = 0

    # ---- the pod's side: the documented API ----
    def active(self, on=None):
        if on is not None:
            self._active = bool(on)
        return self._active

    def config(self, *args, **kw):
        if args:
            if args[0] not in self.cfg:
                raise ValueError("unknown config param")
            return self.cfg[args[0]]
        for k, v in kw.items():
            if k not in ("gap_name", "bond", "mitm", "le_secure", "io", "mtu", "rxbuf"):
                raise ValueError("unknown config param")
            self.cfg[k] = v
        return None

    def irq(self, handler):
        self._handler = handler

    def _irq(self, event, data):
        return self._handler(event, data) if self._handler else None

    def _need_active(self):
        if not self._active:
            raise OSError(22, "EINVAL: BLE not active")

    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        self._need_active()
        if interval_us is None:
            self.advertising = False
            return
        for name, p in (("adv_data", adv_data), ("resp_data", resp_data)):
            if p is not None and len(p) > 31:
                raise ValueError(
                    "%s: %d bytes, advertising payloads are at most 31" % (name, len(p))
                )
        self.adv = (interval_us, bytes(adv_data or b""), bytes(resp_data or b""), connectable)
        self.advertising = True

    def gatts_register_services(self, services):
        self._need_active()
        h = 1
        self._attrs = {}
        out = []
        for svc_uuid, chars in services:
            if not isinstance(svc_uuid, UUID):
                raise TypeError("service UUID must be a bluetooth.UUID")
            h += 1  # service declaration
            handles = []
            for ch in chars:
                uuid, flags = ch[0], ch[1]
                h += 1  # characteristic declaration
                a = _Attr(h, uuid, flags)
                self._attrs[h] = a
                handles.append(h)
                h += 1
                if flags & (FLAG_NOTIFY | FLAG_INDICATE):
                    a.cccd = h
                    h += 1
                for d in ch[2] if len(ch) > 2 else ():
                    self._attrs[h] = _Attr(h, d[0], d[1])
                    handles.append(h)
                    h += 1
            out.append(tuple(handles))
        return tuple(out)

    def _attr(self, handle):
        a = self._attrs.get(handle)
        if a is None:
            raise OSError(2, "ENOENT: unknown attribute handle %r" % (handle,))
        return a

    def gatts_read(self, handle):
        self._need_active()
        return self._attr(handle).value

    def gatts_write(self, handle, data, send_update=False):
        self._need_active()
        a = self._attr(handle)
        a.value = bytes(data)
        if send_update:
            for c in self.centrals.values():
                self.gatts_notify(c.conn, handle)

    def gatts_set_buffer(self, handle, length, append=False):
        a = self._attr(handle)
        a.size = length
        a.append = append

    def _conn(self, conn):
        c = self.centrals.get(conn)
        if c is None:
            raise OSError(107, "ENOTCONN")
        return c

    def _send(self, conn, handle, data, prop):
        self._need_active()
        c = self._conn(conn)
        a = self._attr(handle)
        if not a.flags & prop:
            raise ValueError("characteristic %d lacks notify/indicate" % handle)
        data = a.value if data is None else bytes(data)
        if len(data) > c.mtu - 3:
            raise ValueError("%d bytes over ATT_MTU %d - 3" % (len(data), c.mtu))
        return c, data

    def gatts_notify(self, conn, handle, data=None):
        c, data = self._send(conn, handle, data, FLAG_NOTIFY)
        if len(c.queue) >= _TX_QUEUE:
            raise OSError(12, "ENOMEM")
        c.queue.append((handle, data))
        self.notify_count += 1

    def gatts_indicate(self, conn, handle, data=None):
        c, data = self._send(conn, handle, data, FLAG_INDICATE)
        if c.awaiting is not None:
            raise OSError(114, "EALREADY: an indication awaits confirmation")
        c.indicated.append((handle, data))
        c.awaiting = handle

    def gap_disconnect(self, conn):
        if conn not in self.centrals:
            return False
        self._drop(conn, 0x16)
        return True

    # ---- the test's side ----
    def connect(self, addr=b"\x11\x22\x33\x44\x55\x66"):
        if not self.advertising:
            raise AssertionError("central connects to a pod that is not advertising")
        conn = self._next_conn
        self._next_conn += 1
        c = Central(self, conn, bytes(addr))
        self.centrals[conn] = c
        self.advertising = False  # the controller stops advertising on connect
        self._irq(_IRQ_CENTRAL_CONNECT, (conn, 0, memoryview(bytes(addr))))
        return c

    def _drop(self, conn, reason):
        c = self.centrals.pop(conn, None)
        if c:
            c.connected = False
            self._irq(_IRQ_CENTRAL_DISCONNECT, (conn, 0, memoryview(c.addr)))

    def handle_of(self, uuid):
        for a in self._attrs.values():
            if a.uuid == uuid:
                return a.handle
        raise KeyError(uuid)
