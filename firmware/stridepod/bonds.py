# BLE bonds: the keys the stack hands the pod to keep (_IRQ_SET_SECRET) and
# asks back (_IRQ_GET_SECRET), in RAM and in a small file (bonds.bin).
#
# What MicroPython's NimBLE binding stores (extmod/nimble/modbluetooth_nimble.c):
# two records per bonded peer, sec_type 1 (our keys for it) and 2 (its keys),
# under a 7-byte key (address type, then the address least significant byte
# first), value 80 bytes; sec_type 10 is the pod's own identity key (IRK),
# asked for inside active(True). The stack calls get/set from its IRQ: they
# only look up and store.
#
# Deleting (value None): NimBLE repeats the delete until the answer is False
# ("not found"), so set() says whether a record was removed. Answering True
# for nothing hangs the stack (a phone that forgot the pod pairing again).
#
# Peers' keys are stored only while `accept` is True (the pairing window the
# athlete opens with the button); the IRK always.

SEC_OURS = 1  # the stack's record types (ble.py imports them)
SEC_PEER = 2
SEC_IRK = 10
MAX_BONDS = 8  # peers kept; a ninth is refused until one is forgotten


class Bonds:
    def __init__(self):
        self.secrets = {}  # (sec_type, key) -> value
        self.dirty = False  # changed since the last save
        self.accept = False  # pairing window open: peers' keys may be stored
        self.on_change = None  # () -> None, after forget(): links re-check their centrals

    # ---- the stack's secret store ----
    def get(self, sec_type, index, key):
        if key is not None:
            return self.secrets.get((sec_type, bytes(key)))
        i = 0  # no key: the index-th record of that type
        for t, v in self.secrets.items():
            if t[0] == sec_type:
                if i == index:
                    return v
                i += 1
        return None

    def set(self, sec_type, key, value):
        # -> True when stored, or (value None) when a record was removed
        k = (sec_type, bytes(key))
        if value is None:
            if k not in self.secrets:
                return False
            del self.secrets[k]
            self.dirty = True
            return True
        if sec_type != SEC_IRK:
            if not self.accept:
                return False
            if not self.has(k[1]) and len(self.peers()) >= MAX_BONDS:
                return False
        self.secrets[k] = bytes(value)
        self.dirty = True
        return True

    # ---- bonds as the pod's owner sees them ----
    def has(self, key):
        return (SEC_PEER, key) in self.secrets or (SEC_OURS, key) in self.secrets

    def peers(self):
        # the bonded peers' keys, in a stable order (LIST_BONDS indexes it)
        return sorted(set(k for t, k in self.secrets if t != SEC_IRK))

    def forget(self, key=None):
        # forget one peer (its 7-byte key) or, with None, every peer; -> peers forgotten
        gone = self.peers() if key is None else [key]
        n = 0
        for k in gone:
            if self.has(k):
                n += 1
            for t in (SEC_OURS, SEC_PEER):
                self.secrets.pop((t, k), None)
        if n:
            self.dirty = True
            if self.on_change is not None:
                self.on_change()
        return n

    # ---- the file: (type, key length, key, value length, value) records ----
    def save(self, path):
        # -> True when written (only after a change)
        if not self.dirty:
            return False
        try:
            with open(path, "wb") as f:
                for (t, k), v in self.secrets.items():
                    f.write(bytes((t, len(k))))  # piece by piece: no copies of the keys
                    f.write(k)
                    f.write(bytes((len(v),)))
                    f.write(v)
            self.dirty = False
            return True
        except OSError:
            return False

    def load(self, path):
        # -> records read (a torn tail is dropped)
        try:
            with open(path, "rb") as f:
                b = f.read()
        except OSError:
            return 0
        i = 0
        while i + 2 <= len(b):
            t, kl = b[i], b[i + 1]
            j = i + 2 + kl
            if j >= len(b) or j + 1 + b[j] > len(b):
                break  # torn tail
            self.secrets[(t, bytes(b[i + 2 : j]))] = bytes(b[j + 1 : j + 1 + b[j]])
            i = j + 1 + b[j]
        return len(self.secrets)
