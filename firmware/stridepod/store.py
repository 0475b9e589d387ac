# Never lose a stride: a RAM ring of the newest stride records (backfill after
# a reconnect) and append-only session files on flash (session download).
#
# Session file  <root>/sNNNNN.bin : a 16-byte header, then fixed-size 18-byte
# stride records exactly as sent (flags without BACKFILLED), one per stride,
# consecutive sequence numbers. Each append is flushed, so a power cut loses at
# most the record being written; open() trims a partial tail left by one.
# A write that fails (flash full) stops that session's file at its last whole
# record: records stay consecutive, live streaming and the ring go on, status
# reports storage 100 %. Before a session starts, and every 64 records, the
# oldest finished sessions are deleted while free space is under `reserve`,
# except sessions the pod recorded on its own (AUTO) that no host has
# confirmed it stored (SYNCED): store and forward deletes nothing unsent.
#
# The header's last u16 holds the session's flags: bit0 AUTO (started by
# motion, not by a host), bit1 SYNCED (a host confirmed it stored it; rewritten
# in place), bits 2-15 the boot it was recorded in (meta.bin counts boots), so
# the pod can tell a host whether its device times are from the clock running
# now (a time sync maps them) or from before a restart.
#
# Filesystem calls go through `fs` (default: the os module and open), so the
# store runs on littlefs on a pod, on a RAM block device on the unix port, and
# on a directory (with a quota) under CPython.
import os
import struct

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


REC = const(18)  # stride record size (proto.STRIDE_SIZE)
HDR = const(16)  # session header size
_MAGIC = b"SCS1"
_HDR_FMT = "<4sHIIH"  # magic, session_id, start_time_s, first_seq, flags
_FLAGS_AT = const(14)  # offset of the flags in the header
AUTO = const(1)  # session flags (header): started by the pod itself
SYNCED = const(2)  # a host stored it (store and forward: may be deleted now)
_BOOT_SHIFT = const(2)  # the rest of the flags: the boot it was recorded in
_BOOT_MASK = const(0x3FFF)
_META = "meta.bin"
_META_FMT = "<IHH"  # next_seq, next_session_id, boots (meta.bin of 6 bytes: no boots)
_CONFIG = "config.bin"
_CHECK_EVERY = const(64)  # appends between free-space checks


class OsFs:
    # the real filesystem: MicroPython os (littlefs on a pod) or CPython os
    def open(self, path, mode):
        return open(path, mode)

    def listdir(self, path):
        return os.listdir(path)

    def remove(self, path):
        os.remove(path)

    def rename(self, a, b):
        os.rename(a, b)

    def mkdir(self, path):
        os.mkdir(path)

    def size(self, path):
        return os.stat(path)[6]

    def free_total(self, path):
        # -> (free bytes, total bytes) of the filesystem holding path
        s = os.statvfs(path)
        return s[0] * s[3], s[0] * s[2]


class Ring:
    # The newest stride records in RAM, 2**bits of them; a record is found by
    # its sequence number (they are consecutive). push() allocates nothing.
    def __init__(self, bits=8):
        self._mask = (1 << bits) - 1
        self._buf = bytearray(REC << bits)
        self.count = 0
        self.last_seq = -1

    def push(self, seq, rec):
        if self.count and seq != self.last_seq + 1:
            self.count = 0  # a jump in sequence: older records no longer line up
        i = (seq & self._mask) * REC
        self._buf[i : i + REC] = rec[:REC]
        self.last_seq = seq
        if self.count <= self._mask:
            self.count += 1

    def first_seq(self):
        return self.last_seq - self.count + 1

    def get(self, seq, out):
        # copy record seq into out; False when it is not in the ring
        if not self.count or seq < self.first_seq() or seq > self.last_seq:
            return False
        i = (seq & self._mask) * REC
        out[0:REC] = self._buf[i : i + REC]
        return True


class Session:
    # one session file's summary
    def __init__(self, sid, start_s, first_seq, records, flags=0):
        self.sid = sid
        self.start_s = start_s
        self.first_seq = first_seq
        self.records = records
        self.flags = flags  # AUTO, SYNCED, and the boot (see the header)

    def waiting(self):
        # recorded alone and not yet in a host's hands: never rotated away
        return self.flags & (AUTO | SYNCED) == AUTO


class Store:
    def __init__(self, root, fs=None, reserve=8192, ring_bits=7, max_sessions=32):
        self.root = root
        self.fs = fs or OsFs()
        self.reserve = reserve
        self.max_sessions = max_sessions
        self.ring = Ring(ring_bits)
        self.sessions = []  # Session, oldest first (by id)
        self.running = None  # the Session being written, or None
        self.next_seq = 0
        self.next_sid = 1
        self.boot = 0  # boots counted in meta.bin (this one included, after open())
        self.errors = 0  # failed flash writes
        self.full = False  # the running session's file stopped (flash full)
        self.rotated = 0  # sessions deleted to make room
        self._f = None
        self._rf = None  # a session file kept open while a backfill/read runs
        self._rsid = -1  # its session id
        self._hdr = bytearray(HDR)
        self._since_check = 0

    def _path(self, name):
        return self.root + "/" + name

    def _spath(self, sid):
        return self._path("s%05d.bin" % sid)

    # ---- opening: scan the folder, repair a torn tail, recover counters ----
    def open(self):
        try:
            self.fs.mkdir(self.root)
        except OSError:
            pass  # already there
        self._load_meta()
        self.boot = (self.boot + 1) & _BOOT_MASK
        self._save_meta()
        for name in sorted(self.fs.listdir(self.root)):
            if name.startswith("s") and name.endswith(".bin"):
                s = self._scan(name)
                if s:
                    self.sessions.append(s)
                    self.next_seq = max(self.next_seq, s.first_seq + s.records)
                    self.next_sid = max(self.next_sid, s.sid + 1)
        return self

    def _load_meta(self):
        try:
            with self.fs.open(self._path(_META), "rb") as f:
                b = f.read(8)
            if len(b) == 6:  # written before boots were counted
                b += b"\x00\x00"
            if len(b) == 8:
                self.next_seq, self.next_sid, self.boot = struct.unpack(_META_FMT, b)
        except OSError:
            pass  # first boot

    def _save_meta(self):
        try:
            with self.fs.open(self._path(_META), "wb") as f:
                f.write(struct.pack(_META_FMT, self.next_seq, self.next_sid, self.boot))
        except OSError:
            self.errors += 1

    def _scan(self, name):
        path = self._path(name)
        try:
            size = self.fs.size(path)
            with self.fs.open(path, "rb") as f:
                n = f.readinto(self._hdr)
        except OSError:
            return None
        if n != HDR or self._hdr[0:4] != _MAGIC:
            self._drop(path)  # torn header: the session never got a stride
            return None
        _, sid, start_s, first, flags = struct.unpack(_HDR_FMT, self._hdr)
        records = (size - HDR) // REC
        if HDR + records * REC != size:
            self._trim(path, records)
        return Session(sid, start_s, first, records, flags)

    def _drop(self, path):
        try:
            self.fs.remove(path)
        except OSError:
            self.errors += 1

    def _trim(self, path, records):
        # MicroPython files cannot truncate: copy the whole records, then rename
        tmp = path + ".tmp"
        buf = bytearray(REC * 8)
        left = HDR + records * REC
        try:
            with self.fs.open(path, "rb") as src, self.fs.open(tmp, "wb") as dst:
                while left:
                    k = min(left, len(buf))
                    mv = memoryview(buf)[:k]
                    src.readinto(mv)
                    dst.write(mv)
                    left -= k
            self.fs.remove(path)
            self.fs.rename(tmp, path)
        except OSError:
            self.errors += 1

    # ---- sessions ----
    def find(self, sid):
        for s in self.sessions:
            if s.sid == sid:
                return s
        return None

    def start(self, start_s, auto=False):
        # -> the new Session (listed and running even if its file could not be written)
        self.make_room()
        flags = (self.boot << _BOOT_SHIFT) | (AUTO if auto else 0)
        s = Session(self.next_sid, start_s, self.next_seq, 0, flags)
        self.next_sid = (self.next_sid % 0xFFFF) + 1
        self.full = False
        try:
            f = self.fs.open(self._spath(s.sid), "wb")
            struct.pack_into(_HDR_FMT, self._hdr, 0, _MAGIC, s.sid, start_s, s.first_seq, flags)
            f.write(self._hdr)
            f.flush()
            self._f = f
        except OSError:
            self.errors += 1
            self.full = True
            self._f = None
        self.sessions.append(s)
        self.running = s
        self._save_meta()
        return s

    def stop(self):
        # -> the Session that ran; one the pod started alone and that got no
        # stride is dropped (nothing to keep or forward)
        s = self.running
        if s is None:
            return None
        self._close()
        self.running = None
        if not s.records and s.flags & AUTO:
            self.sessions.remove(s)
            try:
                self.fs.remove(self._spath(s.sid))
            except OSError:
                pass  # never written (flash full)
        self._save_meta()
        return s

    def _close(self):
        if self._f:
            try:
                self._f.close()
            except OSError:
                self.errors += 1
            self._f = None

    def append(self, seq, rec):
        # every stride: into the ring, and into the running session's file
        self.ring.push(seq, rec)
        self.next_seq = seq + 1
        s = self.running
        if s is None or self._f is None:
            return
        self._since_check += 1
        if self._since_check >= _CHECK_EVERY:
            self._since_check = 0
            self.make_room()
        try:
            self._f.write(rec[:REC])
            self._f.flush()
            s.records += 1
        except OSError:
            self.errors += 1
            self.full = True
            self._close()  # the file ends at the last whole record

    def delete(self, sid):
        s = self.find(sid)
        if s is None:
            return False
        if sid == self._rsid:
            self.done_reading()
        self._drop(self._spath(sid))
        self.sessions.remove(s)
        return True

    def make_room(self):
        # delete the oldest finished sessions while free space is under reserve,
        # never one still waiting for a host (store and forward)
        while True:
            free, _ = self.usage()
            many = len(self.sessions) >= self.max_sessions
            if free >= self.reserve and not many:
                return
            old = None
            for s in self.sessions:
                if s is not self.running and not s.waiting():
                    old = s
                    break
            if old is None:
                return
            self.delete(old.sid)
            self.rotated += 1

    def from_this_boot(self, s):
        # its device times come from the clock running now
        return (s.flags >> _BOOT_SHIFT) == self.boot

    def mark_synced(self, s):
        # a host stored this finished session: note it in its header (in place;
        # littlefs commits the block whole). A flash too full to rewrite a block
        # gets the session deleted instead (the host has it) -> False if neither
        if s.flags & SYNCED:
            return True
        if s.sid == self._rsid:
            self.done_reading()
        struct.pack_into("<H", self._hdr, 0, s.flags | SYNCED)
        try:
            with self.fs.open(self._spath(s.sid), "r+b") as f:
                f.seek(_FLAGS_AT)
                f.write(memoryview(self._hdr)[:2])
        except OSError:
            try:
                self.fs.remove(self._spath(s.sid))
            except OSError:
                self.errors += 1
                return False
            self.sessions.remove(s)
            return True
        s.flags |= SYNCED
        return True

    def usage(self):
        try:
            free, total = self.fs.free_total(self.root)
        except OSError:
            return 0, 1
        if free > total:  # littlefs past full: statvfs counts -1 free blocks as 2**32 - 1
            free = 0
        return free, total

    def storage_pct(self):
        if self.full:
            return 100
        free, total = self.usage()
        if total <= 0:
            return 100
        return min(100, (total - free) * 100 // total)

    # ---- reading back ----
    def read(self, s, seq, out):
        # copy record seq of session s into out; False when it is not there
        if seq < s.first_seq or seq >= s.first_seq + s.records:
            return False
        if s is self.running and self.ring.get(seq, out):
            return True
        at = HDR + (seq - s.first_seq) * REC
        sid = s.sid
        appending = s is self.running
        try:
            if appending:  # being appended: a fresh handle sees every record
                with self.fs.open(self._spath(sid), "rb") as f:
                    f.seek(at)
                    return f.readinto(out) == REC
            f = self._rf
            if f is None or self._rsid != sid:  # one open per session read, not per record
                self.done_reading()
                f = self.fs.open(self._spath(sid), "rb")
                self._rf = f
                self._rsid = sid
            f.seek(at)
            return f.readinto(out) == REC
        except OSError:
            self.done_reading()
            return False

    def done_reading(self):
        # close the session file read() kept open (the backfill is over)
        f = self._rf
        self._rf = None
        self._rsid = -1
        if f is not None:
            try:
                f.close()
            except OSError:
                pass

    def get(self, seq, out):
        # any stored stride by sequence number: the ring first, then the files
        if self.ring.get(seq, out):
            return True
        for s in self.sessions:
            if s.first_seq <= seq < s.first_seq + s.records:
                return self.read(s, seq, out)
        return False

    def spans(self):
        # sorted, merged (first, last) seq ranges held anywhere
        r = [(s.first_seq, s.first_seq + s.records - 1) for s in self.sessions if s.records]
        if self.ring.count:
            r.append((self.ring.first_seq(), self.ring.last_seq))
        r.sort()
        out = []  # type: list[tuple[int, int]]
        for a, b in r:
            if out and a <= out[-1][1] + 1:
                if b > out[-1][1]:
                    out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    # ---- config persistence (a few u32) ----
    def load_config(self, values):
        # a file from a firmware with fewer keys sets those; the rest keep their defaults
        try:
            with self.fs.open(self._path(_CONFIG), "rb") as f:
                b = f.read(4 * len(values))
        except OSError:
            return False
        for i in range(len(b) // 4):
            values[i] = struct.unpack_from("<I", b, 4 * i)[0]
        return len(b) >= 4

    def save_config(self, values):
        try:
            with self.fs.open(self._path(_CONFIG), "wb") as f:
                for v in values:
                    f.write(struct.pack("<I", v))
            return True
        except OSError:
            self.errors += 1
            return False
