# A small flash filesystem for store tests.
# MicroPython: real littlefs (os.VfsLfs2) on a RAM block device: the block
#   device is the only fake; snapshot() copies the flash as a power cut leaves it.
# CPython: a directory with a byte quota that raises OSError(ENOSPC) like a
#   full flash (CPython has no littlefs).
import os
import sys

from stridepod.store import OsFs

MP = sys.implementation.name == "micropython"
_n = [0]


class RamBlockDev:
    def __init__(self, block_size, blocks, data=None):
        self.block_size = block_size
        self.data = data if data is not None else bytearray(block_size * blocks)

    def readblocks(self, block, buf, offset=0):
        a = block * self.block_size + offset
        buf[:] = self.data[a : a + len(buf)]

    def writeblocks(self, block, buf, offset=None):
        a = block * self.block_size + (offset or 0)
        self.data[a : a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return len(self.data) // self.block_size
        if op == 5:  # block size
            return self.block_size
        if op == 6:  # erase
            return 0
        return None


class _QuotaFile:
    def __init__(self, fs, f):
        self._fs = fs
        self._f = f

    def write(self, b):
        n = len(b)
        if self._fs.used() + n > self._fs.quota:
            room = self._fs.quota - self._fs.used()
            if room > 0:
                self._f.write(bytes(b[:room]))  # a torn write, as on real flash
                self._f.flush()
            raise OSError(28, "ENOSPC")
        return self._f.write(b)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self._f.close()


class QuotaFs(OsFs):
    def __init__(self, root, quota):
        self.root = root
        self.quota = quota

    def used(self):
        t = 0
        for name in os.listdir(self.root):
            t += os.stat(self.root + "/" + name)[6]
        return t

    def open(self, path, mode):
        f = open(path, mode)  # noqa: SIM115 - returned to the caller, who closes it
        return _QuotaFile(self, f) if "w" in mode or "a" in mode else f

    def free_total(self, path):
        return self.quota - self.used(), self.quota


def _tmpdir():
    import tempfile

    return tempfile.mkdtemp(prefix="stridepod-")


class Flash:
    # one test's flash: .root and .fs for Store; snapshot() -> a new Flash
    # holding what survives a power cut right now
    def __init__(self, size=32768, block=512, data=None, root=None):
        _n[0] += 1
        self.size = size
        if MP:
            self.bd = RamBlockDev(block, size // block, data)
            if data is None:
                os.VfsLfs2.mkfs(self.bd)
            self.mount = "/ram%d" % _n[0]
            os.mount(os.VfsLfs2(self.bd), self.mount)
            self.root = self.mount + "/sessions"
            self.fs = OsFs()
        else:
            self.dir = root or _tmpdir()
            self.root = self.dir + "/sessions"
            self.fs = QuotaFs(self.root, size)

    def snapshot(self):
        if MP:
            return Flash(self.size, self.bd.block_size, bytearray(self.bd.data))
        import shutil

        d = _tmpdir()
        shutil.rmtree(d)
        shutil.copytree(self.dir, d)
        return Flash(self.size, root=d)

    def close(self):
        if MP:
            os.umount(self.mount)
        else:
            import shutil

            shutil.rmtree(self.dir, ignore_errors=True)
