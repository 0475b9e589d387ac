# docs/protocol.md, "Who may read, write and be notified", against the GATT
# table the firmware registers (ble._services()): every characteristic listed
# once, read/write/notify/indicate as its flags say, "bonded" exactly where the
# stack needs encryption (`*_ENC`) or, for notifications, in the StrideCue
# service (ble.py sends those to bonded links only), and the Pico 2 W column
# as the lean table has it.
import sys

sys.path.insert(0, "tests/firmware/fakes")

import bluetooth  # the fake
from bluetooth import FLAG_INDICATE, FLAG_NOTIFY, FLAG_READ, FLAG_WRITE
from bluetooth import FLAG_READ_ENCRYPTED as READ_ENC
from bluetooth import FLAG_WRITE_ENCRYPTED as WRITE_ENC
from bluetooth import FLAG_WRITE_NO_RESPONSE as WRITE_NR
from stridepod import ble as bl

HEAD = "### Who may read, write and be notified"
DASH = "\u2014"


def _rows():
    with open("docs/protocol.md") as f:
        lines = f.read().split("\n")
    i = lines.index(HEAD)
    while not lines[i].startswith("| characteristic"):
        i += 1
    rows = {}
    for line in lines[i + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 6, line
        uuid = _uuid(cells[1])
        assert uuid not in rows, "listed twice: " + line
        rows[uuid] = cells
    return rows


def _uuid(cell):
    u = cell.strip("`")
    if u.startswith("0x"):
        return bluetooth.UUID(int(u, 16))
    return bluetooth.UUID(bl.BASE % u.strip("\u2026-"))


def _chars(lean):
    # uuid -> (flags, in the StrideCue service)
    out = {}
    for svc, chars in bl._services(lean):
        for ch in chars:
            out[ch[0]] = (ch[1], svc == bluetooth.UUID(bl.SC_UUID))
    return out


def _who(cell):
    # "bonded (notify)" -> ("bonded", "notify"); a dash -> (None, None)
    if cell == DASH:
        return None, None
    who, _, how = cell.partition(" (")
    return who, how.rstrip(")").split(":")[0]


def test_every_characteristic_is_in_the_table_once():
    rows = _rows()
    assert sorted(repr(u) for u in rows) == sorted(repr(u) for u in _chars(False))


def test_properties_and_who_match_the_flags():
    for uuid, (flags, stridecue) in _chars(False).items():
        name, _, read, write, told, _pico = _rows()[uuid]
        who, _ = _who(read)
        assert (who is not None) == bool(flags & FLAG_READ), name
        assert (who == "bonded") == bool(flags & READ_ENC), name
        who, how = _who(write)
        assert (who is not None) == bool(flags & (FLAG_WRITE | WRITE_NR)), name
        assert (how == "without response") == bool(flags & WRITE_NR), name
        assert (who == "bonded") == bool(flags & WRITE_ENC), name
        who, how = _who(told)
        kinds = {"notify": FLAG_NOTIFY, "indicate": FLAG_INDICATE}
        assert (who is not None) == bool(flags & (FLAG_NOTIFY | FLAG_INDICATE)), name
        assert who is None or flags & kinds[how], name
        assert who is None or (who == "bonded") == stridecue, name


def test_the_pico_column_is_the_lean_table():
    lean = _chars(True)
    for uuid, cells in _rows().items():
        assert cells[5] in ("yes", "no"), cells
        assert (cells[5] == "yes") == (uuid in lean), cells[0]
        if uuid in lean:
            assert lean[uuid] == _chars(False)[uuid], cells[0]  # same flags in both tables
