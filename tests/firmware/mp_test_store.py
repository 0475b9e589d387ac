# store.py: the RAM ring, session files on a real littlefs (MicroPython) or a
# quota directory (CPython), torn-tail repair, rotation and a full flash.
import struct

from fakes.ramfs import Flash
from stridepod import proto
from stridepod.store import AUTO, HDR, REC, SYNCED, Ring, Store


def _rec(seq, flags=0):
    b = bytearray(proto.STRIDE_SIZE)
    proto.encode_stride(b, seq, 1000 + seq * 700, 700, 200, 2400, flags)
    return b


def _seq_of(b):
    return b[2] | (b[3] << 8) | (b[4] << 16) | (b[5] << 24)


def test_ring_keeps_newest_and_finds_by_seq():
    r = Ring(bits=3)
    out = bytearray(REC)
    for s in range(20):
        r.push(s, _rec(s))
    assert r.count == 8 and r.first_seq() == 12 and r.last_seq == 19
    assert r.get(12, out) and _seq_of(out) == 12
    assert r.get(19, out) and _seq_of(out) == 19
    assert not r.get(11, out) and not r.get(20, out)


def test_ring_jump_in_sequence_restarts():
    r = Ring(bits=3)
    out = bytearray(REC)
    for s in range(5):
        r.push(s, _rec(s))
    r.push(100, _rec(100))
    assert r.count == 1 and not r.get(4, out) and r.get(100, out)


def test_session_roundtrip_and_counters_survive_reopen():
    fl = Flash()
    st = Store(fl.root, fl.fs).open()
    s = st.start(1700000000)
    assert s.sid == 1 and s.first_seq == 0
    for q in range(30):
        st.append(q, _rec(q))
    st.stop()
    st2 = Store(fl.root, fl.fs).open()
    assert len(st2.sessions) == 1
    s2 = st2.sessions[0]
    assert (s2.sid, s2.start_s, s2.first_seq, s2.records) == (1, 1700000000, 0, 30)
    assert st2.next_seq == 30 and st2.next_sid == 2
    out = bytearray(REC)
    assert st2.get(17, out) and bytes(out) == bytes(_rec(17))
    assert not st2.get(30, out)
    fl.close()


def test_power_cut_loses_at_most_the_record_being_written():
    fl = Flash()
    st = Store(fl.root, fl.fs).open()
    st.start(5)
    for q in range(12):
        st.append(q, _rec(q))
    cut = fl.snapshot()  # the file was never closed: power gone now
    st3 = Store(cut.root, cut.fs).open()
    assert st3.sessions[0].records == 12
    assert st3.next_seq == 12
    cut.close()
    fl.close()


def test_torn_tail_is_trimmed_on_open():
    fl = Flash()
    st = Store(fl.root, fl.fs).open()
    st.start(5)
    for q in range(4):
        st.append(q, _rec(q))
    st.stop()
    path = fl.root + "/s00001.bin"
    with open(path, "ab") as f:
        f.write(bytes(_rec(4))[:7])  # half a record: power cut mid-write
    st2 = Store(fl.root, fl.fs).open()
    assert st2.sessions[0].records == 4
    assert fl.fs.size(path) == HDR + 4 * REC
    st2.start(6)
    assert st2.running.first_seq == 4
    fl.close()


def test_full_flash_never_raises_and_reports_full():
    fl = Flash(size=16384)
    st = Store(fl.root, fl.fs, reserve=0).open()
    st.start(1)
    q = 0
    while not st.full and q < 5000:
        st.append(q, _rec(q))
        q += 1
    assert st.full and st.errors >= 1
    kept = st.running.records
    assert 0 < kept < q
    for k in range(50):  # streaming goes on: the ring still takes strides
        st.append(q + k, _rec(q + k))
    out = bytearray(REC)
    assert st.get(q + 49, out) and _seq_of(out) == q + 49
    assert st.storage_pct() == 100
    st.stop()
    again = Store(fl.root, fl.fs).open()
    assert again.sessions[0].records == kept  # whole records only
    fl.close()


def _six_sessions(own=0):
    # a store on a small flash that had to rotate: six sessions of 120 strides,
    # the first `own` of them recorded by the pod alone; -> (flash, store, next seq)
    fl = Flash(size=16384)
    st = Store(fl.root, fl.fs, reserve=6000).open()
    q = 0
    for sess in range(6):
        st.start(100 + sess, auto=sess < own)
        for _ in range(120):
            st.append(q, _rec(q))
            q += 1
        st.stop()
    return fl, st, q


def test_rotation_deletes_oldest_finished_sessions():
    fl, st, _q = _six_sessions()
    assert st.rotated >= 1
    ids = [s.sid for s in st.sessions]
    assert ids == sorted(ids) and ids[-1] == 6 and 1 not in ids
    assert not st.full
    fl.close()


def test_spans_merge_ring_and_files():
    fl = Flash()
    st = Store(fl.root, fl.fs, ring_bits=4).open()
    st.start(1)
    for q in range(40):
        st.append(q, _rec(q))
    st.stop()
    assert st.spans() == [(0, 39)]
    st.delete(1)
    assert st.spans() == [(24, 39)]  # only the ring is left
    fl.close()


def test_config_persists():
    fl = Flash()
    st = Store(fl.root, fl.fs).open()
    assert not st.load_config([0, 0])
    assert st.save_config([180, 833])
    v = [0, 0]
    assert Store(fl.root, fl.fs).open().load_config(v) and v == [180, 833]
    v = [0, 0, 7]  # a newer firmware with one key more: the new one keeps its default
    assert Store(fl.root, fl.fs).open().load_config(v) and v == [180, 833, 7]
    fl.close()


class _CountingFs:
    # the store's filesystem, counting opens of session files
    def __init__(self, fs):
        self.fs = fs
        self.opens = 0

    def open(self, path, mode):
        if path.endswith(".bin") and "/s" in path:
            self.opens += 1
        return self.fs.open(path, mode)

    def __getattr__(self, name):
        return getattr(self.fs, name)


def test_a_session_read_opens_its_file_once():
    fl = Flash()
    fs = _CountingFs(fl.fs)
    st = Store(fl.root, fs, ring_bits=3).open()
    for sid in (1, 2):
        st.start(sid)
        for q in range(st.next_seq, st.next_seq + 20):
            st.append(q, _rec(q))
        st.stop()
    out = bytearray(REC)
    s1 = st.sessions[0]
    fs.opens = 0
    for q in range(0, 20):
        assert st.read(s1, q, out) and _seq_of(out) == q
    assert fs.opens == 1  # kept open across the records of one session
    assert st.get(25, out) and _seq_of(out) == 25  # another session: its own file
    assert fs.opens == 2
    st.delete(2)  # deleting the file being read closes it first
    assert not st.get(25, out) and st.get(3, out) and _seq_of(out) == 3
    st.done_reading()
    assert st.get(4, out) and fs.opens == 4
    st.done_reading()
    fl.close()


def _fill(st, n, q):
    for _ in range(n):
        st.append(q, _rec(q))
        q += 1
    return q


def test_session_flags_and_boots_are_kept_in_the_files():
    fl = Flash()
    st = Store(fl.root, fl.fs).open()
    assert st.boot == 1
    st.start(0, auto=True)
    q = _fill(st, 3, 0)
    st.stop()
    st.start(1700000000)
    _fill(st, 2, q)
    st.stop()
    a, h = st.sessions
    assert a.waiting() and not h.waiting() and st.from_this_boot(a)
    with open(fl.root + "/s00001.bin", "rb") as f:
        assert struct.unpack_from("<H", f.read(HDR), 14)[0] == AUTO | (1 << 2)
    assert st.mark_synced(a) and not a.waiting()
    st2 = Store(fl.root, fl.fs).open()  # the next boot
    a2, h2 = st2.sessions
    assert st2.boot == 2 and a2.flags == AUTO | SYNCED | (1 << 2) and h2.flags == 1 << 2
    assert not st2.from_this_boot(a2) and a2.records == 3
    out = bytearray(REC)
    assert st2.read(a2, 2, out) and _seq_of(out) == 2  # the records are untouched
    fl.close()


def test_a_meta_file_from_before_boots_were_counted():
    fl = Flash()
    Store(fl.root, fl.fs).open()
    with open(fl.root + "/meta.bin", "wb") as f:
        f.write(struct.pack("<IH", 41, 3))
    st = Store(fl.root, fl.fs).open()
    assert (st.next_seq, st.next_sid, st.boot) == (41, 3, 1)
    fl.close()


def test_an_own_session_without_strides_is_dropped_when_it_ends():
    fl = Flash()
    st = Store(fl.root, fl.fs).open()
    st.start(0, auto=True)
    st.stop()
    st.start(5)  # a host's empty session is kept (the host asked for it)
    st.stop()
    assert [s.sid for s in st.sessions] == [2]
    assert sorted(fl.fs.listdir(fl.root)) == ["meta.bin", "s00002.bin"]
    fl.close()


def test_rotation_never_deletes_what_no_host_has_stored():
    fl, st, q = _six_sessions(own=2)  # the two oldest: recorded alone, unsent
    ids = [s.sid for s in st.sessions]
    assert st.rotated >= 1 and ids[:2] == [1, 2] and 3 not in ids
    before = st.rotated
    for s in st.sessions[2:]:
        st.delete(s.sid)
    st.start(9)
    while not st.full and q < 5000:  # the flash fills: nothing unsent goes
        q = _fill(st, 1, q)
    st.stop()
    assert st.full and [s.sid for s in st.sessions] == [1, 2, 7] and st.rotated == before
    st.start(10)
    assert [s.sid for s in st.sessions] == [1, 2, 8]  # the host's session made room
    st.mark_synced(st.sessions[0])
    while not st.full and q < 5000:
        q = _fill(st, 1, q)
    st.stop()
    st.start(11)  # now the synced one may go too (first: it is the oldest)
    ids = [s.sid for s in st.sessions]
    assert 1 not in ids and 2 in ids and ids[-1] == 9
    fl.close()


def test_marking_on_a_full_flash_deletes_instead():
    fl = Flash(size=16384)
    st = Store(fl.root, fl.fs, reserve=0).open()
    st.start(0, auto=True)
    q = _fill(st, 20, 0)
    st.stop()
    st.start(1)
    while not st.full and q < 5000:
        q = _fill(st, 1, q)
    st.stop()
    assert st.usage()[0] < 1024  # (littlefs past full reads as 0 free)
    a = st.sessions[0]
    assert st.mark_synced(a)
    assert st.find(a.sid) is None or not a.waiting()  # deleted (no block free to rewrite)
    fl.close()
