# Wire records of the StrideCue protocol, pod side. docs/protocol.md is the
# authority for every byte; tests/vectors/records.json holds golden vectors that
# this encoder and the host decoder are both tested against.
#
# Every record starts with (kind, version). Encoders write into a caller's
# buffer with struct.pack_into so the stride path allocates nothing.
import struct

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


VERSION = const(1)

KIND_STRIDE = const(0x01)
KIND_STATUS = const(0x02)
KIND_CUE = const(0x03)
KIND_CONTROL = const(0x04)
KIND_REPLY = const(0x05)
KIND_LOG = const(0x7F)

STRIDE_SIZE = const(18)
STATUS_SIZE = const(20)
CUE_SIZE = const(7)
REPLY_MAX = const(20)
REPLY_HEADER = const(5)  # kind, version, opcode, token, result; the payload follows
RSC_SIZE = const(10)

# stride flags (u16)
F_ACC_SAT = const(0x0001)  # accelerometer clipped during the stride
F_GYR_SAT = const(0x0002)  # gyro clipped; plateau bridged
F_LOW_QUALITY = const(0x0004)  # ZUPT residual or timing outside sane bounds
F_BACKFILLED = const(0x0008)  # sent again on request, not live
F_GAP = const(0x0010)  # samples were missing or duplicated in the stride
F_FIRST = const(0x0020)  # first stride after rest: no previous contact
F_TURN = const(0x0040)  # heading changed by > 45 deg during the stride
F_CUED = const(0x0080)  # the motor ran during the stride: its vibration is in the samples

# the status record's coach byte (offset 17): what the pod's coach (coach.py) does
CS_ACTIVE = const(0x01)  # a coach runs in this session
CS_PACING = const(0x02)  # its pacer ticks now (a pacer set and this clear: rhythm held)
CS_REP = const(0x04)  # in a rep, by the pod's own rep detection
CS_BEHIND = const(0x08)  # the last split of this rep was behind the plan
CS_PACER = const(0x10)  # a pacer is set
CS_PLAN = const(0x20)  # a split plan is set

# cue patterns (the cue record's pattern; haptics.py plays them)
PAT_RHYTHM = const(1)  # three short pulses
PAT_STRIDE = const(2)  # one long pulse
PAT_IDENTIFY = const(3)  # two pulses
PAT_PULSE = const(4)  # one pulse of duration_ms

# control opcodes
OP_START = const(0x01)
OP_STOP = const(0x02)
OP_TIME_SYNC = const(0x03)
OP_SET_CONFIG = const(0x04)
OP_GET_CONFIG = const(0x05)
OP_BACKFILL = const(0x06)
OP_LIST_SESSIONS = const(0x07)
OP_READ_SESSION = const(0x08)
OP_IDENTIFY = const(0x09)
OP_DELETE_SESSION = const(0x0A)
OP_GET_STATUS = const(0x0B)
OP_SESSION_INFO = const(0x0C)  # store and forward: one session's first seq and flags
OP_MARK_SYNCED = const(0x0D)  # store and forward: the host stored this session
# BLE bonds (0x10..): list and forget the hosts the pod keeps keys for
OP_LIST_BONDS = const(0x10)
OP_FORGET_BOND = const(0x11)

# session flags (LIST_SESSIONS, SESSION_INFO replies)
SF_RUNNING = const(0x01)
SF_AUTO = const(0x02)  # the pod started it itself (motion): `stridecue pod sync` fetches it
SF_SYNCED = const(0x04)  # a host confirmed it stored it
SF_EARLIER_BOOT = const(0x08)  # recorded before the pod restarted: its device times are
# from another clock than the one a time sync measures now

# reply results
R_OK = const(0)
R_UNKNOWN_OP = const(1)
R_BAD_LENGTH = const(2)
R_OUT_OF_RANGE = const(3)
R_BUSY = const(4)
R_NOT_FOUND = const(5)
R_STORAGE = const(6)
R_NOT_PERMITTED = const(7)
R_BAD_VERSION = const(8)

_STRIDE_FMT = "<BBIIHHHH"
_STATUS_FMT = "<BBBBBBIIBBBBH"
_CUE_FMT = "<BBBBBH"
_RSC_FMT = "<BHBHI"


def _u16(x):
    # clamp into an unsigned 16-bit field (0xFFFF means "out of range")
    if x < 0:
        return 0
    return x if x < 0xFFFF else 0xFFFF


def encode_stride(buf, seq, t_contact_ms, stride_ms, contact_ms, length_mm, flags):
    struct.pack_into(
        _STRIDE_FMT,
        buf,
        0,
        KIND_STRIDE,
        VERSION,
        seq & 0xFFFFFFFF,
        t_contact_ms & 0xFFFFFFFF,
        _u16(stride_ms),
        _u16(contact_ms),
        _u16(length_mm),
        flags & 0xFFFF,
    )
    return STRIDE_SIZE


def add_stride_flags(buf, flags):
    # sets more flags in an encoded stride record (a stored record sent again
    # gets F_BACKFILLED)
    buf[16] |= flags & 0xFF
    buf[17] |= (flags >> 8) & 0xFF


def encode_status(buf, battery_pct, imu_state, storage_pct, state, dropped, last_seq, fw, uptime_s,
                  coach=0):  # fmt: skip
    struct.pack_into(
        _STATUS_FMT,
        buf,
        0,
        KIND_STATUS,
        VERSION,
        battery_pct,
        imu_state,
        storage_pct,
        state,
        dropped & 0xFFFFFFFF,
        last_seq & 0xFFFFFFFF,
        fw[0],
        fw[1],
        fw[2],
        coach & 0xFF,
        _u16(uptime_s // 60),
    )
    return STATUS_SIZE


def encode_rsc(buf, speed_mps256, cadence_spm, stride_cm, distance_dm, running):
    # Bluetooth SIG RSC Measurement (0x2A53): stride length and total distance
    # present; bit 2 set while running.
    flags = 0x03 | (0x04 if running else 0)
    struct.pack_into(
        _RSC_FMT,
        buf,
        0,
        flags,
        _u16(speed_mps256),
        cadence_spm if cadence_spm < 255 else 255,
        _u16(stride_cm),
        distance_dm & 0xFFFFFFFF,
    )
    return RSC_SIZE


def encode_cue(buf, pattern, intensity, repeat, duration_ms):
    struct.pack_into(_CUE_FMT, buf, 0, KIND_CUE, VERSION, pattern, intensity, repeat, duration_ms)
    return CUE_SIZE


def decode_cue(data):
    # -> (pattern, intensity, repeat, duration_ms), or None when malformed
    if len(data) != CUE_SIZE or data[0] != KIND_CUE or data[1] != VERSION:
        return None
    return struct.unpack_from(_CUE_FMT, data, 0)[2:]


def control_header(data):
    # -> (opcode, token, result) where result is R_OK or why the request is refused
    n = len(data)
    if n < 4 or data[0] != KIND_CONTROL:
        return (data[2] if n > 2 else 0, data[3] if n > 3 else 0, R_BAD_LENGTH)
    if data[1] != VERSION:
        return (data[2], data[3], R_BAD_VERSION)
    return (data[2], data[3], R_OK)


def encode_reply(buf, opcode, token, result, n=0):
    # the header of a control reply whose n payload bytes the caller has packed
    # in place at buf[REPLY_HEADER:] (struct.pack_into: nothing is copied)
    if n > REPLY_MAX - REPLY_HEADER:
        raise ValueError("reply payload over 15 bytes")
    buf[0] = KIND_REPLY
    buf[1] = VERSION
    buf[2] = opcode
    buf[3] = token
    buf[4] = result
    return REPLY_HEADER + n


def encode_log(buf, text):
    # free-text diagnostics over the serial link only (never over BLE)
    b = text.encode()
    n = min(len(b), len(buf) - 1)
    buf[0] = KIND_LOG
    buf[1 : 1 + n] = b[:n]
    return 1 + n
