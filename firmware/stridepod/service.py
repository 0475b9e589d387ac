# The pod's transport-independent logic: strides out, cues and control
# requests in, from any number of links (BLE, USB serial, a pty on the unix
# port). docs/protocol.md is the authority for every byte.
#
# A link is any object with
#   stride(rec, n, rsc, rn)  broadcast a live stride record (+ RSC measurement)
#   reply(conn, buf, n)      send a control reply to the requester
#   record(conn, buf, n)     send one follow-up record (backfill, status); False = busy, retry
#   status(buf, n)           publish a status change (BLE notify; serial: nothing)
#   hosts()                  how many hosts are connected on this link
# and calls pod.control(data, link, conn, permitted) and pod.cue(data, permitted).
#
# Nothing here touches hardware: the clock, store, haptics, battery and IMU come
# in as arguments, so the same class runs on a pod, in the simulation board on
# the unix port and under CPython.
#
# Sessions: a host STARTs and STOPs one, or the pod starts its own when it is
# worn and moving (auto_start, called by app.py) and ends it at rest
# (auto_stop). A host START while the pod's own session runs gets BUSY, as any
# START while a session runs, and the session goes on as the host's: it ends at
# the host's STOP. Sessions the pod started itself stay on flash until a host
# has stored them (SESSION_INFO, READ_SESSION, then MARK_SYNCED).
import struct

from stridepod import VERSION as FW_VERSION
from stridepod import proto, rt
from stridepod.store import AUTO, SYNCED

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# config keys (docs/protocol.md, "Config keys")
K_TARGET = const(1)
K_RATE = const(2)
K_FALLBACK = const(3)
K_FB_LOW = const(4)
K_FB_HIGH = const(5)
K_SHORTEN = const(6)  # on-pod stride-shortening cue, 0 off / 1 on
K_CAD_PAT = const(7)  # pattern of the on-pod cadence cue
K_SHORT_PAT = const(8)  # pattern of the on-pod shortening cue
K_AUTO = const(9)  # 0: measure only in host sessions; 1: start a session on motion
K_REST_S = const(10)  # an auto session ends after this many seconds without a stride
# the on-pod coach (coach.py; app.py feeds it every stride, host or not)
K_PACER = const(11)  # rhythm pacer target, steps/min (100..240); 0 off
K_PACE_EVERY = const(12)  # a pacer pulse every this many steps (1..16)
K_SPLIT = const(13)  # a buzz at each 100 m of a rep, 0 off / 1 on
K_SCALE = const(14)  # distance scale, permille (800..1200) of the pod's own distance
K_GUARD = const(15)  # stride-shortening guard for reps of this many m (100..10000); 0 off
# the split plan: planned elapsed ms of a rep at 100 m, 200 m, ... 600 m (0: no
# checkpoint); the coach uses the longest strictly increasing non-zero prefix
K_PLAN_100 = const(16)
K_PLAN_200 = const(17)
K_PLAN_300 = const(18)
K_PLAN_400 = const(19)
K_PLAN_500 = const(20)
K_PLAN_600 = const(21)
PLAN_MAX_MS = const(3600000)
N_KEYS = const(21)
DEFAULTS = (180, 416, 0, 160, 200, 0, 1, 2, 1, 60, 0, 4, 0, 1000, 0, 0, 0, 0, 0, 0, 0)
RATES = (208, 416, 833)

# exact params length per opcode 1..13 (after the 4-byte header)
_PARAMS = b"\x04\x00\x00\x05\x01\x06\x01\x08\x00\x02\x00\x02\x06"
# ... and per bond opcode, from OP_LIST_BONDS on
_BOND_PARAMS = b"\x01\x07"
_ALL_BONDS = const(0xFF)  # FORGET_BOND's address type meaning "every bond"

_ST_SESSION = const(1)
_ST_PAIRING = const(2)
_ST_HOST = const(4)
_ST_AUTO = const(8)  # the running session is one the pod started itself

_BATCH = const(8)  # follow-up records sent per pump() call and job
_MAX_JOBS = const(4)


def _params_len(op):
    # -> the exact params length of an opcode, or -1 for one the pod does not know
    if 1 <= op <= len(_PARAMS):
        return _PARAMS[op - 1]
    i = op - proto.OP_LIST_BONDS
    if 0 <= i < len(_BOND_PARAMS):
        return _BOND_PARAMS[i]
    return -1


class Job:
    # one backfill or session read in progress towards one requester
    def __init__(self, link, conn, spans, session):
        self.link = link
        self.conn = conn
        self.spans = spans  # [(first, last)] still to send, in order
        self.session = session  # Session for READ_SESSION, None for BACKFILL


class Pod:
    def __init__(self, clock_ms, store, haptics=None, links=None, battery=None, imu=None):
        self.clock_ms = clock_ms  # () -> device ms since boot
        self.store = store
        self.haptics = haptics
        self.links = links if links is not None else []
        self.battery = battery  # () -> percent 0..100 or 255
        self.imu = imu  # has .state (proto imu_state) and .dropped
        self.config = list(DEFAULTS)
        store.load_config(self.config)
        if not self._valid_all():
            self.config = list(DEFAULTS)
        self.pairing = False
        self.taken = False  # a host STARTed while the pod's own session ran: no rest stop
        self._utc = None  # (host_time_s, device ms) of the last START: the date, if known
        self.on_config = None  # (key, value) -> None, called after a change
        self.on_session = None  # (running: bool) -> None
        self.on_wake = None  # () -> None: follow-up work is waiting
        self.fallback = None  # fallback.Fallback, or None
        self.bonds = None  # bonds.Bonds of the BLE link (set by it), or None
        self.distance_mm = 0
        self.coach = 0  # the status record's coach byte (proto.CS_*; app.py sets it)
        self.cues_bad = 0  # cue writes ignored (unknown pattern, bad fields, not bonded)
        self.cues_played = 0
        self.requests = 0
        self.refused = 0  # control requests answered with an error
        self.jobs = []
        self._rec = bytearray(proto.STRIDE_SIZE)
        self._rsc = bytearray(proto.RSC_SIZE)
        self._out = bytearray(proto.REPLY_MAX)
        self._status = bytearray(proto.STATUS_SIZE)
        self._tmp = bytearray(proto.STRIDE_SIZE)

    # ---- state ----
    def running(self):
        return self.store.running is not None

    def hosts(self):
        n = 0
        for link in self.links:
            n += link.hosts()
        return n

    def state_bits(self):
        st = _ST_SESSION if self.running() else 0
        if self.auto_running():
            st |= _ST_AUTO
        if self.pairing:
            st |= _ST_PAIRING
        if self.hosts():
            st |= _ST_HOST
        return st

    def status(self):
        # -> the status record in a reused buffer
        imu = self.imu
        proto.encode_status(
            self._status,
            self.battery() if self.battery else 255,
            imu.state if imu else 1,
            self.store.storage_pct(),
            self.state_bits(),
            imu.dropped if imu else 0,
            self.store.next_seq - 1 if self.store.next_seq else 0,
            FW_VERSION,
            self.clock_ms() // 1000,
            self.coach,
        )
        return self._status

    def publish_status(self):
        st = self.status()
        for link in self.links:
            link.status(st, proto.STATUS_SIZE)

    # ---- strides ----
    def on_stride(self, t_contact_ms, stride_ms, contact_ms, length_mm, flags):
        # one stride from the engine: sequence it, keep it, send it everywhere
        seq = self.store.next_seq
        rec = self._rec
        if self.haptics is not None and self.haptics.ran_since_last(self.clock_ms()):
            flags |= proto.F_CUED
        proto.encode_stride(rec, seq, t_contact_ms, stride_ms, contact_ms, length_mm, flags)
        self.store.append(seq, rec)
        self.distance_mm += length_mm
        rn = self._encode_rsc(stride_ms, length_mm)
        for link in self.links:
            link.stride(rec, proto.STRIDE_SIZE, self._rsc, rn)
        if self.fallback is not None:
            self.fallback.on_stride(t_contact_ms, stride_ms, length_mm, flags)
        return seq

    def _encode_rsc(self, stride_ms, length_mm):
        if stride_ms <= 0:
            stride_ms = 1
        speed = length_mm * 256 // stride_ms  # 1/256 m/s
        cadence = 120000 // stride_ms  # two steps per stride of one foot
        return proto.encode_rsc(
            self._rsc, speed, cadence, length_mm // 10, self.distance_mm // 100, speed > 640
        )

    # ---- cues ----
    def cue(self, data, permitted=True):
        # a cue write: played, or ignored and counted (no reply is possible)
        c = proto.decode_cue(data)
        if not permitted or c is None or self.haptics is None:
            self.cues_bad += 1
            return False
        if not self.haptics.play(c[0], c[1], c[2], c[3]):
            self.cues_bad += 1
            return False
        self.cues_played += 1
        return True

    # ---- control ----
    def control(self, data, link, conn=0, permitted=True):
        self.requests += 1
        op, token, res = proto.control_header(data)
        n = 0
        if res == proto.R_OK and not permitted:
            res = proto.R_NOT_PERMITTED
        if res == proto.R_OK:
            need = _params_len(op)
            if need < 0:
                res = proto.R_UNKNOWN_OP
            elif len(data) - 4 != need:
                res = proto.R_BAD_LENGTH
        if res == proto.R_OK:
            res, n = self._dispatch(op, data, link, conn)
        if res != proto.R_OK:
            self.refused += 1
            n = 0
        link.reply(conn, self._out, proto.encode_reply(self._out, op, token, res, n))
        if res == proto.R_OK and op == proto.OP_GET_STATUS:
            link.record(conn, self.status(), proto.STATUS_SIZE)
        return res

    def _pay(self, fmt, *vals):
        # a reply payload, packed where encode_reply expects it
        struct.pack_into(fmt, self._out, proto.REPLY_HEADER, *vals)
        return struct.calcsize(fmt)

    def _dispatch(self, op, d, link, conn):
        if op == proto.OP_START:
            return self._start(struct.unpack_from("<I", d, 4)[0])
        if op == proto.OP_STOP:
            return self._stop()
        if op == proto.OP_TIME_SYNC:
            return proto.R_OK, self._pay("<I", self.clock_ms() & 0xFFFFFFFF)
        if op == proto.OP_SET_CONFIG:
            return self._set_config(d[4], struct.unpack_from("<I", d, 5)[0])
        if op == proto.OP_GET_CONFIG:
            if d[4] < 1 or d[4] > N_KEYS:
                return proto.R_OUT_OF_RANGE, 0
            return proto.R_OK, self._pay("<BI", d[4], self.config[d[4] - 1])
        if op == proto.OP_BACKFILL:
            f, c = struct.unpack_from("<IH", d, 4)
            return self._backfill(link, conn, f, c, None)
        if op == proto.OP_LIST_SESSIONS:
            return self._list(d[4])
        if op == proto.OP_READ_SESSION:
            sid, f, c = struct.unpack_from("<HIH", d, 4)
            s = self.store.find(sid)
            if s is None:
                return proto.R_NOT_FOUND, 0
            return self._backfill(link, conn, f, c, s)
        if op == proto.OP_IDENTIFY:
            if self.haptics is None:
                return proto.R_BUSY, 0
            self.haptics.play(proto.PAT_IDENTIFY, 100, 1, 0)
            return proto.R_OK, 0
        if op == proto.OP_DELETE_SESSION:
            return self._delete(struct.unpack_from("<H", d, 4)[0])
        if op == proto.OP_GET_STATUS:
            return proto.R_OK, 0  # the status record follows the reply
        if op >= proto.OP_LIST_BONDS:
            return self._bond_op(op, d)
        return self._forward(op, d)  # store and forward (SESSION_INFO, MARK_SYNCED)

    # ---- store and forward: what the pod measured alone goes to a host once ----
    def _forward(self, op, d):
        sid = struct.unpack_from("<H", d, 4)[0]
        s = self.store.find(sid)
        if s is None:
            return proto.R_NOT_FOUND, 0
        if op == proto.OP_SESSION_INFO:
            fl = self._session_flags(s)
            return proto.R_OK, self._pay("<HIIIB", sid, s.first_seq, s.records, s.start_s, fl)
        # MARK_SYNCED: u32 records the host stored, all of them or nothing changes
        if s is self.store.running:
            return proto.R_BUSY, 0
        if struct.unpack_from("<I", d, 6)[0] != s.records:
            return proto.R_OUT_OF_RANGE, 0
        if not self.store.mark_synced(s):
            return proto.R_STORAGE, 0
        return proto.R_OK, self._pay("<H", sid)

    def _start(self, host_time_s):
        self._utc = (host_time_s, self.clock_ms())
        if self.running():
            # the session goes on (the pod's own one is the host's from now: it
            # ends at the host's STOP, not at rest)
            self.taken = True
            return proto.R_BUSY, 0
        s = self._begin(host_time_s, False)
        return proto.R_OK, self._pay("<HI", s.sid, s.first_seq)

    def _begin(self, start_s, auto):
        s = self.store.start(start_s, auto)
        self.distance_mm = 0
        self.taken = False
        if self.on_session:
            self.on_session(True)
        self.publish_status()
        return s

    def _stop(self):
        s = self._end()
        if s is None:
            return proto.R_NOT_FOUND, 0
        return proto.R_OK, self._pay("<HI", s.sid, self.store.next_seq - s.first_seq)

    def _end(self):
        s = self.store.stop()
        if s is not None:
            if self.on_session:
                self.on_session(False)
            self.publish_status()
        return s

    # ---- on its own: a session when worn and moving (app.py decides when) ----
    def auto_start(self):
        # -> the session started, or None (one runs, or auto start is off)
        if self.running() or not self.get(K_AUTO):
            return None
        return self._begin(self._utc_now(), True)

    def auto_running(self):
        s = self.store.running
        return s is not None and bool(s.flags & AUTO) and not self.taken

    def auto_stop(self):
        # the athlete stopped: end the pod's own session (one without strides is dropped)
        if self.auto_running():
            self._end()

    def _utc_now(self):
        # UTC seconds now if a host told the pod (START) since it booted, else 0
        if self._utc is None:
            return 0
        return self._utc[0] + rt.ticks_diff(self.clock_ms(), self._utc[1]) // 1000

    def _list(self, index):
        ss = self.store.sessions
        if index >= len(ss):
            return proto.R_NOT_FOUND, 0
        s = ss[index]
        return proto.R_OK, self._pay(
            "<BHIIB", index, s.sid, s.start_s, s.records, self._session_flags(s)
        )

    def _session_flags(self, s):
        st = self.store
        fl = proto.SF_RUNNING if s is st.running else 0
        if s.flags & AUTO:
            fl |= proto.SF_AUTO
        if s.flags & SYNCED:
            fl |= proto.SF_SYNCED
        if not st.from_this_boot(s):
            fl |= proto.SF_EARLIER_BOOT
        return fl

    def _delete(self, sid):
        s = self.store.find(sid)
        if s is None:
            return proto.R_NOT_FOUND, 0
        if s is self.store.running:
            return proto.R_BUSY, 0
        self.store.delete(sid)
        return proto.R_OK, 0

    # ---- BLE bonds (a bonded host or the serial link) ----
    def _bond_op(self, op, d):
        # LIST_BONDS index -> index, count, address type, address (most significant
        # byte first); FORGET_BOND address type + address, or type 0xFF (every
        # bond) -> how many were forgotten. The stack keys a bond by type and
        # address least significant byte first (bonds.py).
        peers = self.bonds.peers() if self.bonds is not None else []
        if op == proto.OP_LIST_BONDS:
            if d[4] >= len(peers):
                return proto.R_NOT_FOUND, 0
            k = peers[d[4]]
            n = self._pay("<BBB", d[4], len(peers), k[0])
            for i in range(6):
                self._out[proto.REPLY_HEADER + n + i] = k[6 - i]
            return proto.R_OK, n + 6
        key = None if d[4] == _ALL_BONDS else bytes((d[4], d[10], d[9], d[8], d[7], d[6], d[5]))
        n = self.bonds.forget(key) if self.bonds is not None else 0
        if n == 0 and key is not None:
            return proto.R_NOT_FOUND, 0
        return proto.R_OK, self._pay("<B", n)

    # ---- config ----
    def _valid(self, key, v, cfg):
        if key in (K_TARGET, K_FB_LOW, K_FB_HIGH):
            if v < 100 or v > 240:
                return False
            if key == K_FB_LOW:
                return v < cfg[K_FB_HIGH - 1]
            if key == K_FB_HIGH:
                return v > cfg[K_FB_LOW - 1]
            return True
        if key == K_RATE:
            return v in RATES
        if key in (K_FALLBACK, K_SHORTEN, K_AUTO):
            return v in (0, 1)
        if key in (K_CAD_PAT, K_SHORT_PAT):
            return proto.PAT_RHYTHM <= v <= proto.PAT_IDENTIFY
        if key == K_REST_S:
            return 10 <= v <= 3600
        if key == K_PACER:
            return v == 0 or 100 <= v <= 240
        if key == K_PACE_EVERY:
            return 1 <= v <= 16
        if key == K_SPLIT:
            return v in (0, 1)
        if key == K_SCALE:
            return 800 <= v <= 1200
        if key == K_GUARD:
            return v == 0 or 100 <= v <= 10000
        if K_PLAN_100 <= key <= K_PLAN_600:
            return v == 0 or 1000 <= v <= PLAN_MAX_MS
        return False

    def _valid_all(self):
        return all(self._valid(i + 1, self.config[i], self.config) for i in range(N_KEYS))

    def _set_config(self, key, value):
        if not self._valid(key, value, self.config):
            return proto.R_OUT_OF_RANGE, 0
        if key == K_RATE and self.running() and value != self.config[K_RATE - 1]:
            return proto.R_BUSY, 0  # the engine's rate cannot change mid-session
        self.config[key - 1] = value
        if not self.store.save_config(self.config):
            pass  # applied in RAM; the error is counted in store.errors
        if self.on_config:
            self.on_config(key, value)
        return proto.R_OK, self._pay("<BI", key, value)

    def get(self, key):
        return self.config[key - 1]

    # ---- backfill and session read ----
    def _backfill(self, link, conn, from_seq, count, session):
        if count == 0:
            return proto.R_OUT_OF_RANGE, 0
        last = from_seq + count - 1
        if session is None:
            have = self.store.spans()
        elif session.records:
            have = [(session.first_seq, session.first_seq + session.records - 1)]
        else:
            have = []
        spans = []
        n = 0
        for a, b in have:
            a = max(a, from_seq)
            b = min(b, last)
            if a <= b:
                spans.append((a, b))
                n += b - a + 1
        if not spans:
            return proto.R_NOT_FOUND, 0
        self._add_job(Job(link, conn, spans, session))
        if session is None:
            return proto.R_OK, self._pay("<IH", spans[0][0], n)
        return proto.R_OK, self._pay("<HIH", session.sid, spans[0][0], n)

    def _add_job(self, job):
        for j in self.jobs:
            if j.link is job.link and j.conn == job.conn:
                self.jobs.remove(j)  # a new request replaces the old one
                break
        if len(self.jobs) >= _MAX_JOBS:
            self.jobs.pop(0)
        self.jobs.append(job)
        if self.on_wake:
            self.on_wake()

    def pump(self):
        # send the next few follow-up records of every job; -> True while work remains
        for job in self.jobs[:]:
            if not self._pump_job(job):
                self.jobs.remove(job)
        if not self.jobs:
            self.store.done_reading()
        return bool(self.jobs)

    def _pump_job(self, job):
        out = self._tmp
        for _ in range(_BATCH):
            if not job.spans:
                return False
            a, b = job.spans[0]
            if job.session is None:
                ok = self.store.get(a, out)
            else:
                ok = self.store.read(job.session, a, out)
            if ok:
                proto.add_stride_flags(out, proto.F_BACKFILLED)
                if not job.link.record(job.conn, out, proto.STRIDE_SIZE):
                    return True  # the link is busy: same record next time
            if a >= b:
                job.spans.pop(0)
            else:
                job.spans[0] = (a + 1, b)
        return True

    def drop_conn(self, link, conn):
        # a requester went away: forget its jobs
        for j in self.jobs[:]:
            if j.link is link and j.conn == conn:
                self.jobs.remove(j)
        if not self.jobs:
            self.store.done_reading()
