"""Bad strides are rejected, counted and never reach the detectors."""

from __future__ import annotations

import logging
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stridecue.analysis import Analyzer, StrideIn
from stridecue.analysis.validate import StrideValidator


@pytest.mark.parametrize(
    ("stride", "reason"),
    [
        ((1.0, math.nan, 3.0, math.nan, -1), "non_finite"),
        ((math.inf, 0.5, 3.0, math.nan, -1), "non_finite"),
        ((1.0, 0.5, math.inf, math.nan, -1), "non_finite"),
        ((1.0, 0.0, 3.0, math.nan, -1), "stride_time_out_of_range"),
        ((1.0, -0.5, 3.0, math.nan, -1), "stride_time_out_of_range"),
        ((1.0, 5.01, 3.0, math.nan, -1), "stride_time_out_of_range"),
        ((1.0, 0.5, -1.0, math.nan, -1), "stride_length_out_of_range"),
        ((1.0, 0.5, 5.6, math.nan, -1), "stride_length_out_of_range"),
        ((1.0, 0.5, 3.0, -0.1, -1), "contact_time_out_of_range"),
        ((1.0, 0.5, 3.0, 0.6, -1), "contact_time_out_of_range"),
        ((1.0, 0.5, 3.0, math.inf, -1), "contact_time_out_of_range"),
    ],
)
def test_absurd_values_rejected(
    stride: tuple[float, float, float, float, int], reason: str
) -> None:
    v = StrideValidator()
    assert v.check(*stride) == reason
    assert v.rejected[reason] == 1
    assert v.n_rejected == 1


def test_limits_are_inclusive_where_physical() -> None:
    v = StrideValidator()
    assert v.check(1.0, 5.0, 4.0, 0.0, -1) is None
    assert v.check(2.0, 0.5, 3.0, math.nan, -1) is None


def test_duplicates_and_out_of_order_by_time_and_seq() -> None:
    v = StrideValidator()
    assert v.check(10.0, 0.5, 3.0, 0.1, 5) is None
    assert v.check(10.5, 0.5, 3.0, 0.1, 5) == "duplicate"
    assert v.check(10.6, 0.5, 3.0, 0.1, 4) == "out_of_order"
    assert v.check(10.0, 0.5, 3.0, 0.1, 6) == "duplicate"
    assert v.check(9.0, 0.5, 3.0, 0.1, 7) == "out_of_order"
    assert v.check(11.0, 0.5, 3.0, 0.1, 8) is None
    assert v.rejected["duplicate"] == 2
    assert v.rejected["out_of_order"] == 2


def test_warning_once_per_reason(caplog: pytest.LogCaptureFixture) -> None:
    v = StrideValidator()
    with caplog.at_level(logging.WARNING, logger="stridecue.analysis.validate"):
        for _ in range(5):
            v.check(1.0, -1.0, 3.0, math.nan, -1)
    assert v.rejected["stride_time_out_of_range"] == 5
    warnings = [r for r in caplog.records if "stride_time_out_of_range" in r.getMessage()]
    assert len(warnings) == 1


def test_rejected_strides_do_not_change_the_analysis() -> None:
    clean = [StrideIn(0.48 * (i + 1), 0.48, 3.6, 0.11, i) for i in range(80)]
    dirty: list[StrideIn] = []
    for s in clean:
        dirty.append(s)
        dirty.append(StrideIn(s.t_s, 0.48, 3.6, 0.11, s.seq))  # duplicate
        dirty.append(StrideIn(s.t_s + 0.01, math.nan, 3.6))
        dirty.append(StrideIn(s.t_s + 0.02, 0.48, 9.0))
    a, b = Analyzer(), Analyzer()
    ea = [e for s in clean for e in a.feed(s)] + list(a.finish())
    eb = [e for s in dirty for e in b.feed(s)] + list(b.finish())
    assert ea == eb
    assert b.n_accepted == 80
    assert b.validator.n_rejected == 240


def test_length_limit_can_be_raised_for_elite_sprinters() -> None:
    from stridecue.analysis import AnalyzerSettings
    from stridecue.errors import ConfigError

    # an elite sprint stride (two steps of 2.3 m) is real; 5.6 m is not
    assert StrideValidator().check(1.0, 0.46, 4.6, math.nan, -1) is None
    assert StrideValidator().check(1.0, 0.46, 5.6, math.nan, -1) == "stride_length_out_of_range"
    assert StrideValidator(4.0).check(1.0, 0.46, 4.3, math.nan, -1) == "stride_length_out_of_range"
    a = Analyzer(AnalyzerSettings(max_stride_length_m=4.0))
    a.feed_values(1.0, 0.46, 4.3)
    assert a.n_accepted == 0
    a = Analyzer(AnalyzerSettings())
    a.feed_values(1.0, 0.46, 4.6)
    assert a.n_accepted == 1
    with pytest.raises(ConfigError, match="max_stride_length_m"):
        AnalyzerSettings(max_stride_length_m=10.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=True, width=32),
            st.floats(allow_nan=True, allow_infinity=True, width=32),
            st.floats(allow_nan=True, allow_infinity=True, width=32),
            st.floats(allow_nan=True, allow_infinity=True, width=32),
            st.integers(min_value=-1, max_value=50),
        ),
        max_size=60,
    )
)
def test_any_input_is_accepted_or_counted_never_a_crash(
    rows: list[tuple[float, float, float, float, int]],
) -> None:
    a = Analyzer()
    for r in rows:
        for e in a.feed_values(*r):
            assert math.isfinite(e.t_s)
    a.finish()
    assert a.n_accepted + a.validator.n_rejected == len(rows)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(-1, 100), st.just(math.nan), st.just(math.inf)),
            st.one_of(st.floats(-1, 6), st.just(math.nan)),
            st.one_of(st.floats(-1, 7), st.just(math.inf)),
            st.one_of(st.floats(-1, 2), st.just(math.nan), st.just(-math.inf)),
            st.integers(-1, 6),
        ),
        max_size=30,
    )
)
def test_fast_path_agrees_with_the_full_rules(strides: list[tuple[float, ...]]) -> None:
    fast, ref = StrideValidator(), StrideValidator()
    for t_s, st_, sl, ct, seq in strides:
        want = ref._reason(t_s, st_, sl, ct, int(seq))  # the rules, one by one
        if want is None:
            ref.last_t_s = t_s
            if seq >= 0:
                ref.last_seq = int(seq)
        assert fast.check(t_s, st_, sl, ct, int(seq)) == want
