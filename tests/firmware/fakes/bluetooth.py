# A fake of MicroPython's `bluetooth` module (docs.micropython.org, "bluetooth
# - low-level Bluetooth"), peripheral role, with the centrals driven by the test.
# The unix port has no `bluetooth`, so this file is what `import bluetooth`
# finds when tests/firmware/fakes is on the path.
#
# It behaves as MicroPython's NimBLE binding did on the real stack (the unix
# port built with NimBLE, driven by a bumble virtual controller, 2026-12; the
# binding is extmod/nimble/modbluetooth_nimble.c). It may refuse more than the
# real stack where hardware would fail, never less, and never reports
# differently:
#   - an `*_ENC` characteristic touched on an unencrypted link: ATT 0x05
#     (Insufficient Authentication), or 0x0F when the pod holds a bond for the
#     peer (the stack asks _IRQ_GET_SECRET type 2 first); no IRQ on the pod
#   - every read of a value raises _IRQ_GATTS_READ_REQUEST; a non-zero return
#     is the ATT error the central gets. gatts_notify(conn, h) with data=None
#     reads the value through the same IRQ, with conn handle 65535
#   - writes cannot be refused: the value is stored (truncated to the buffer,
#     20 bytes unless gatts_set_buffer) and _IRQ_GATTS_WRITE follows; its
#     return value is ignored
#   - MTU 23 until the central exchanges it (_IRQ_MTU_EXCHANGED only then);
#     a notification longer than MTU - 3 is silently truncated
#   - notify/indicate go to any characteristic and any handle the data is
#     given for, subscribed or not; 64 notifications wait for the radio
#     (`tx_buffers`, fewer to model a congested controller: ENOMEM beyond)
#   - a second indication before the first is confirmed is accepted and sent;
#     the central's confirmation gives _IRQ_GATTS_INDICATE_DONE once
#   - gatts_read of an unknown handle: b""; gatts_write: EINVAL; an unknown
#     connection handle: ENOTCONN; radio off: ENODEV
#   - advertising data over 31 bytes: OSError(-18); scan response: EINVAL;
#     connectable advertising with every connection slot taken: ENOMEM
#   - connection handles: the lowest free one, so 1 again after a disconnect
#   - pairing (LE Secure Connections, just works): _IRQ_ENCRYPTION_UPDATE first,
#     its bonded flag what was negotiated (both sides asked to bond; the pod
#     asks only with config(bond=True)); then, only when bonded, two
#     _IRQ_SET_SECRET records, sec_type 1 (ours) and 2 (the peer's), key 7 bytes
#     (address type + address, least significant byte first), value 80 bytes
#   - a central that pairs again while the pod holds its bond (it "forgot" the
#     pod): the stack first deletes the old bond, asking _IRQ_SET_SECRET with
#     value None for type 1, then type 2, each REPEATEDLY until the handler
#     answers False ("not found"). A handler that keeps answering True hangs
#     NimBLE; here the test fails after 1000 rounds
#   - reconnecting with stored keys asks _IRQ_GET_SECRET type 1 (our LTK)
#   - active(True) loads the pod's identity key (sec_type 10, key b"irk") with
#     _IRQ_GET_SECRET, and makes and stores a new one when there is none
#   - config("mtu") is 256, config("mac") a fixed address unless BLE(mac="random")
#     (the unix port draws a new one every run)
# For the Pico 2 W (BTstack) BLE(att_db_max=512) lays the ATT database out as
# BTstack's att_db_util.c does and silently leaves out what does not fit: the
# pod still gets a handle for it, a central never sees it (att_db_bytes()).
import os

FLAG_BROADCAST = 0x0001
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020
FLAG_READ_ENCRYPTED = 0x0200
FLAG_READ_AUTHENTICATED = 0x0400
FLAG_WRITE_ENCRYPTED = 0x1000
FLAG_WRITE_AUTHENTICATED = 0x2000

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_GATTS_READ_REQUEST = 4
_IRQ_GATTS_INDICATE_DONE = 20
_IRQ_MTU_EXCHANGED = 21
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_GET_SECRET = 29
_IRQ_SET_SECRET = 30

ATT_OK = 0
ATT_INVALID_HANDLE = 0x01
ATT_READ_NOT_PERMITTED = 0x02
ATT_WRITE_NOT_PERMITTED = 0x03
ATT_INSUFFICIENT_AUTHENTICATION = 0x05
ATT_INSUFFICIENT_AUTHORIZATION = 0x08
ATT_INSUFFICIENT_ENCRYPTION = 0x0F

SEC_OURS = 1  # NimBLE's BLE_STORE_OBJ_TYPE_OUR_SEC
SEC_PEER = 2  # BLE_STORE_OBJ_TYPE_PEER_SEC
SEC_IRK = 10  # the binding's SECRET_TYPE_OUR_IRK
SEC_VALUE = 80  # sizeof(struct ble_store_value_sec)
NO_CONN = 65535  # BLE_HS_CONN_HANDLE_NONE: a read for gatts_notify(data=None)
DELETE_ROUNDS = 1000  # SET_SECRET(None) answered True this often: NimBLE would hang


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


def att_db_bytes(services, limit=None):
    # -> (bytes used, [True per characteristic/descriptor value that fits]) for
    # BTstack's ATT database (src/ble/att_db_util.c, MicroPython's
    # extmod/btstack/modbluetooth_btstack.c). Byte model:
    #   1 version byte at the start, a 2-byte end tag after the last record;
    #   every attribute record = 2 size + 2 flags + 2 handle + UUID (2, or 16
    #   for a 128-bit one) + its stored value;
    #   service declaration: 16-bit UUID 0x2800, value = the service UUID (2|16);
    #   characteristic declaration: 0x2803, value = properties, value handle,
    #     UUID (3 + 2|16);
    #   characteristic value and descriptors: no stored value (MicroPython keeps
    #     values itself: ATT_PROPERTY_DYNAMIC, data NULL, length 0);
    #   CCCD after a notify/indicate value: 0x2902 with a 2-byte value;
    #   first, the binding's own GAP (0x1800: Device Name) and GATT (0x1801:
    #   0x2A05) services, 2 x (10 + 21) = 62 bytes.
    # A record is left out, silently, when size + record + end tag > limit
    # (att_db_util_assert_space); its handle is still handed out.
    used = [1 + 2 * ((8 + 2) + (8 + 5) + (8 + 0))]  # version byte, GAP and GATT services
    fits = []

    def add(n):
        if limit is not None and used[0] + n + 2 > limit:
            return False
        used[0] += n
        return True

    for svc, chars in services:
        add(8 + len(svc._b))
        for ch in chars:
            u = len(ch[0]._b)
            add(8 + 3 + u)
            fits.append(add(6 + u))
            if ch[1] & (FLAG_NOTIFY | FLAG_INDICATE):
                add(8 + 2)
            for d in ch[2] if len(ch) > 2 else ():
                fits.append(add(6 + len(d[0]._b)))
    return used[0] + 2, fits


class _Attr:
    def __init__(self, handle, uuid, flags):
        self.handle = handle
        self.uuid = uuid
        self.flags = flags
        self.value = b""
        self.size = 20
        self.append = False
        self.visible = True  # in the ATT database a central can discover
        self.cccd = None  # handle of its CCCD, when notify/indicate


class Central:
    # the far end of one connection, driven by the test
    def __init__(self, ble, conn, addr, addr_type=0, bond=True):
        self.ble = ble
        self.conn = conn
        self.addr = addr  # as _IRQ_CENTRAL_CONNECT gives it: most significant byte first
        self.addr_type = addr_type
        self.wants_bond = bond
        self.mtu = 23
        self.encrypted = False
        self.bonded = False
        self.has_keys = False  # the central keeps a key for the pod
        self.notified = []  # (value_handle, bytes)
        self.indicated = []
        self.queue = []  # notifications not yet taken off the air
        self.awaiting = None  # handle of an indication not yet confirmed
        self.connected = True

    @property
    def key(self):
        # the stack's secret key for this peer: address type, then the address LSB first
        return bytes((self.addr_type,)) + bytes(reversed(self.addr))

    def _visible(self, handle):
        a = self.ble._attrs.get(handle)
        return a if a is not None and a.visible else None

    def _refused(self, a, enc_flags):
        if not a.flags & enc_flags or self.encrypted:
            return ATT_OK
        # NimBLE looks for the peer's bond: with one the central should encrypt
        known = self.ble._secret(SEC_PEER, self.key)
        return ATT_INSUFFICIENT_ENCRYPTION if known else ATT_INSUFFICIENT_AUTHENTICATION

    def write(self, handle, data, with_response=True):
        a = self._visible(handle)
        if a is None:
            return ATT_INVALID_HANDLE
        need = FLAG_WRITE if with_response else FLAG_WRITE_NO_RESPONSE
        if not a.flags & need:
            return ATT_WRITE_NOT_PERMITTED
        err = self._refused(a, FLAG_WRITE_ENCRYPTED | FLAG_WRITE_AUTHENTICATED)
        if err:
            return err
        data = bytes(data)
        a.value = (a.value + data if a.append else data)[: a.size]
        self.ble._irq(_IRQ_GATTS_WRITE, (self.conn, handle))  # its answer is ignored
        return ATT_OK

    def read(self, handle):
        a = self._visible(handle)
        if a is None:
            return ATT_INVALID_HANDLE, None
        if not a.flags & FLAG_READ:
            return ATT_READ_NOT_PERMITTED, None
        err = self._refused(a, FLAG_READ_ENCRYPTED | FLAG_READ_AUTHENTICATED)
        if err:
            return err, None
        err = self.ble._irq(_IRQ_GATTS_READ_REQUEST, (self.conn, handle))
        if err:
            return int(err), None
        return ATT_OK, a.value

    def pair(self):
        # LE Secure Connections "just works", started by the central
        ble = self.ble
        if ble._secret(SEC_PEER, self.key):
            # NimBLE knows this peer but the peer no longer knows the pod
            # (BLE_GAP_EVENT_REPEAT_PAIRING): delete the old bond, then pair again
            ble._delete(SEC_OURS, self.key)
            ble._delete(SEC_PEER, self.key)
        self.encrypted = True
        self.bonded = bool(ble.cfg.get("bond")) and self.wants_bond
        self.has_keys = self.bonded
        ble._irq(_IRQ_ENCRYPTION_UPDATE, (self.conn, 1, 0, 1 if self.bonded else 0, 16))
        if self.bonded:
            for t in (SEC_OURS, SEC_PEER):
                ble._irq(_IRQ_SET_SECRET, (t, memoryview(self.key), memoryview(os.urandom(80))))

    def reencrypt(self):
        # a central that bonded earlier starts encryption with its stored key
        ltk = self.ble._secret(SEC_OURS, self.key)
        if not (ltk and self.has_keys):
            return False  # PIN or key missing: the central has to pair again
        self.encrypted = self.bonded = True
        self.ble._irq(_IRQ_ENCRYPTION_UPDATE, (self.conn, 1, 0, 1, 16))
        return True

    def forget_pod(self):
        # the phone's user removed the pod from its Bluetooth settings
        self.has_keys = False

    def exchange_mtu(self, mtu):
        self.mtu = min(mtu, self.ble.cfg["mtu"])
        self.ble._irq(_IRQ_MTU_EXCHANGED, (self.conn, self.mtu))

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
    def __init__(
        self, mac=b"\x24\x0a\xc4\x12\xab\xcd", max_conns=4, tx_buffers=64, att_db_max=None
    ):
        if isinstance(mac, str):  # "random": a static random address, new every run
            mac = bytes((os.urandom(1)[0] | 0xC0,)) + os.urandom(5)
        self._active = False
        self._handler = None
        self._attrs = {}
        self.cfg = {"mac": (0, mac), "gap_name": "MPY", "bond": False, "mtu": 256}
        self.adv = None  # (interval_us, adv_data, resp_data, connectable)
        self.advertising = False
        self.centrals = {}
        self.max_conns = max_conns
        self.tx_buffers = tx_buffers
        self.att_db_max = att_db_max
        self.att_db_used = 0
        self.irk = None
        self.notify_count = 0
        self.deletes = 0  # SET_SECRET(None) calls the stack made

    # ---- the pod's side: the documented API ----
    def active(self, on=None):
        if on is not None:
            was, self._active = self._active, bool(on)
            if self._active and not was:
                self._load_irk()
        return self._active

    def _load_irk(self):
        irk = self._irq(_IRQ_GET_SECRET, (SEC_IRK, 0, memoryview(b"irk")))
        if irk is not None and len(irk) == 16:
            self.irk = bytes(irk)
            return
        new = os.urandom(16)
        stored = self._irq(_IRQ_SET_SECRET, (SEC_IRK, memoryview(b"irk"), memoryview(new)))
        self.irk = new if stored else None

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
            raise OSError(19, "ENODEV: BLE not active")

    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        self._need_active()
        if interval_us is None:
            self.advertising = False
            return
        if adv_data is not None and len(adv_data) > 31:
            raise OSError(-18, "advertising data over 31 bytes")
        if resp_data is not None and len(resp_data) > 31:
            raise OSError(22, "EINVAL: scan response over 31 bytes")
        if connectable and len(self.centrals) >= self.max_conns:
            raise OSError(12, "ENOMEM: no connection slot left")
        self.adv = (interval_us, bytes(adv_data or b""), bytes(resp_data or b""), connectable)
        self.advertising = True

    def gatts_register_services(self, services):
        self._need_active()
        h = 1
        self._attrs = {}
        out = []
        used, fits = att_db_bytes(services, self.att_db_max)
        self.att_db_used = used
        fits = iter(fits)
        for svc_uuid, chars in services:
            if not isinstance(svc_uuid, UUID):
                raise TypeError("service UUID must be a bluetooth.UUID")
            h += 1  # service declaration
            handles = []
            for ch in chars:
                uuid, flags = ch[0], ch[1]
                h += 1  # characteristic declaration
                a = _Attr(h, uuid, flags)
                a.visible = next(fits)
                self._attrs[h] = a
                handles.append(h)
                h += 1
                if flags & (FLAG_NOTIFY | FLAG_INDICATE):
                    a.cccd = h
                    h += 1
                for d in ch[2] if len(ch) > 2 else ():
                    self._attrs[h] = _Attr(h, d[0], d[1])
                    self._attrs[h].visible = next(fits)
                    handles.append(h)
                    h += 1
            out.append(tuple(handles))
        return tuple(out)

    def gatts_read(self, handle):
        self._need_active()
        a = self._attrs.get(handle)
        return a.value if a is not None else b""

    def gatts_write(self, handle, data, send_update=False):
        self._need_active()
        a = self._attrs.get(handle)
        if a is None:
            raise OSError(22, "EINVAL: unknown attribute handle %r" % (handle,))
        a.value = bytes(data)
        if send_update:
            for c in self.centrals.values():
                self.gatts_notify(c.conn, handle)

    def gatts_set_buffer(self, handle, length, append=False):
        a = self._attrs.get(handle)
        if a is None:
            raise OSError(22, "EINVAL: unknown attribute handle %r" % (handle,))
        a.size = length
        a.append = append

    def _conn(self, conn):
        c = self.centrals.get(conn)
        if c is None:
            raise OSError(107, "ENOTCONN")
        return c

    def _payload(self, conn, handle, data):
        self._need_active()
        c = self._conn(conn)
        if data is None:
            a = self._attrs.get(handle)
            if a is None:
                raise OSError(22, "EINVAL: no value to send for handle %r" % (handle,))
            err = self._irq(_IRQ_GATTS_READ_REQUEST, (NO_CONN, handle))
            if err:
                raise OSError(int(err), "the read for the notification was refused")
            data = a.value
        return c, bytes(data)[: c.mtu - 3]  # longer: silently cut at the MTU

    def gatts_notify(self, conn, handle, data=None):
        c, data = self._payload(conn, handle, data)
        if len(c.queue) >= self.tx_buffers:
            raise OSError(12, "ENOMEM")
        c.queue.append((handle, data))
        self.notify_count += 1

    def gatts_indicate(self, conn, handle, data=None):
        c, data = self._payload(conn, handle, data)
        c.indicated.append((handle, data))
        if c.awaiting is None:
            c.awaiting = handle  # a second one is sent too, but confirmed only once

    def gap_disconnect(self, conn):
        if conn not in self.centrals:
            return False
        self._drop(conn, 0x16)
        return True

    # ---- the stack's secret store (the pod's IRQ handler) ----
    def _secret(self, sec_type, key):
        v = self._irq(_IRQ_GET_SECRET, (sec_type, 0, memoryview(key)))
        return v is not None and len(v) == SEC_VALUE

    def _delete(self, sec_type, key):
        # ble_store_util_delete_all(): delete until the store says "not found"
        for _ in range(DELETE_ROUNDS):
            self.deletes += 1
            if not self._irq(_IRQ_SET_SECRET, (sec_type, memoryview(key), None)):
                return
        raise AssertionError(
            "SET_SECRET(%d, %s, None) answered True %d times: NimBLE would loop forever"
            % (sec_type, bytes(key).hex(), DELETE_ROUNDS)
        )

    # ---- the test's side ----
    def connect(self, addr=b"\x11\x22\x33\x44\x55\x66", addr_type=0, bond=True):
        if not self.advertising:
            raise AssertionError("central connects to a pod that is not advertising")
        conn = 1
        while conn in self.centrals:
            conn += 1
        c = Central(self, conn, bytes(addr), addr_type, bond)
        self.centrals[conn] = c
        self.advertising = False  # the controller stops advertising on connect
        self._irq(_IRQ_CENTRAL_CONNECT, (conn, addr_type, memoryview(bytes(addr))))
        return c

    def _drop(self, conn, reason):
        c = self.centrals.pop(conn, None)
        if c:
            c.connected = False
            c.encrypted = False
            self._irq(_IRQ_CENTRAL_DISCONNECT, (conn, c.addr_type, memoryview(c.addr)))

    def handle_of(self, uuid):
        # what a central finds by discovery
        for a in self._attrs.values():
            if a.uuid == uuid and a.visible:
                return a.handle
        raise KeyError(uuid)
