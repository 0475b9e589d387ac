# The runner itself: a failing firmware test must fail under pytest.
import sys


def test_interpreter_is_expected():
    impl = sys.implementation.name
    assert impl in ("micropython", "cpython"), impl
