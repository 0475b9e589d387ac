# Runs the test_* functions of one firmware test module and prints one JSON line
# per test. Works on MicroPython (unix port) and CPython alike; pytest's
# tests/firmware/conftest.py starts it and turns each line into a test result.
import sys

try:
    import io
except ImportError:
    import uio as io
import json


def _trace(e):
    buf = io.StringIO()
    if hasattr(sys, "print_exception"):
        sys.print_exception(e, buf)
    else:
        import traceback

        traceback.print_exception(type(e), e, e.__traceback__, file=buf)
    return buf.getvalue()


def main(modname):
    mod = __import__(modname)
    names = sorted(n for n in dir(mod) if n.startswith("test_"))
    for name in names:
        try:
            getattr(mod, name)()
            res = {"test": name, "ok": True}
        except Exception as e:
            res = {"test": name, "ok": False, "msg": _trace(e)}
        print("@@MPTEST " + json.dumps(res))


main(sys.argv[1])
