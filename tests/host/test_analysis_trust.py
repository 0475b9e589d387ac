"""Strides the pod cannot trust: counted in the distance, never judged (issue #19).

Most tests run the same stream twice, once with the pod's flags and once without, so
what changes is the flag's doing and nothing else.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from cuepod import CuePod
from flaggedrep import live_rep, rep_records
from stridecue.analysis import Analyzer, AnalyzerSettings, Event, StrideIn
from stridecue.analysis.baseline import LogBaseline
from stridecue.analysis.detectors import Ar1Whitener
from stridecue.analysis.noise import Spread
from stridecue.analysis.trust import LENGTH_DOUBT, TIME_DOUBT, parse_flags
from stridecue.cli import main
from stridecue.export.parquet import rows as parquet_rows
from stridecue.liveview import View
from stridecue.practice import Practice
from stridecue.protocol import StrideEvent, StrideFlag
from stridecue.protocol.records import Pattern
from stridecue.report import html as report_html
from stridecue.sessiondata import load
from stridecue.sim import strides as S

ALERTS = ("rhythm_loss", "stride_shortening", "recovered")
LOW = int(StrideFlag.LOW_QUALITY)


def _steady(seed: int = 7, n: int = 160) -> list[S.StrideTruth]:
    """One even sprint rep (2 % natural spread, strides alike at phi 0.3)."""
    return S.steady(np.random.default_rng(seed), S.SPRINT, n).strides


def _run(
    strides: list[S.StrideTruth],
    flags: dict[int, int],
    *,
    length: dict[int, float] | None = None,
    time: dict[int, float] | None = None,
    analyzer: Analyzer | None = None,
    finish: bool = True,
) -> tuple[list[Event], Analyzer]:
    """Feed ``strides``, stride k scaled by ``length[k]`` / ``time[k]`` and flagged ``flags[k]``."""
    a = analyzer or Analyzer()
    out: list[Event] = []
    length = length or {}
    time = time or {}
    for k, s in enumerate(strides):
        out.extend(
            a.feed_values(
                s.t_s,
                s.stride_time_s * time.get(k, 1.0),
                s.stride_length_m * length.get(k, 1.0),
                s.contact_time_s,
                k,
                flags.get(k, 0),
            )
        )
    if finish:
        out.extend(a.finish())
    return out, a


def _alerts(events: list[Event]) -> list[tuple[str, int]]:
    return [(str(e.kind), e.stride_index) for e in events if e.kind in ALERTS]


def _summary(events: list[Event]) -> dict[str, object]:
    (summary,) = [e.detail for e in events if e.kind == "rep_summary"]
    return summary


#: strides 80-85 of the rep read 15 % short: a bend the pod measured badly
BAD = range(80, 86)
SHORT = dict.fromkeys(BAD, 0.85)


def test_low_quality_short_strides_raise_no_shortening_and_keep_the_distance() -> None:
    strides = _steady()
    plain, _ = _run(strides, {}, length=SHORT)
    # without the flag the analyzer believes them: strides shortening on the second one
    assert _alerts(plain)[0] == ("stride_shortening", 81)
    flagged, _ = _run(strides, dict.fromkeys(BAD, LOW), length=SHORT)
    assert _alerts(flagged) == []
    a, b = _summary(plain), _summary(flagged)
    # the ground is still covered: the rep's distance and splits do not lose those metres
    assert b["distance_m"] == a["distance_m"]
    assert b["splits_s"] == a["splits_s"]
    assert b["strides"] == a["strides"] == len(strides)
    assert (a["doubtful_strides"], b["doubtful_strides"]) == (0, len(BAD))
    assert b["alerts"] == 0 and b["form_held_m"] == b["distance_m"]


@pytest.mark.parametrize(
    ("flag", "judged"),
    [
        (StrideFlag.LOW_QUALITY, False),
        (StrideFlag.TURN, False),
        (StrideFlag.GAP, False),
        # clipped strides are judged: at sprint speed on a 16 g pod nearly all clip
        (StrideFlag.ACC_SATURATED, True),
        (StrideFlag.GYRO_SATURATED, True),
        (StrideFlag.FIRST, True),  # from standing: its length is a gait figure
        (StrideFlag.BACKFILLED | StrideFlag.CUED, True),
    ],
)
def test_which_flags_stop_the_length(flag: StrideFlag, judged: bool) -> None:
    events, _ = _run(_steady(), dict.fromkeys(BAD, int(flag)), length=SHORT)
    assert ("stride_shortening", 81) in _alerts(events) if judged else not _alerts(events)
    assert _summary(events)["doubtful_strides"] == (0 if judged else len(BAD))


def test_what_an_untrusted_length_reads_changes_nothing_judged() -> None:
    # the same flagged strides reading 0.5 x or 1.5 x: every detector, baseline and
    # whitener ends exactly where it does with the true lengths (only distance differs)
    strides = _steady()
    flags = dict.fromkeys(BAD, LOW)

    def state(scale: float) -> tuple[float, ...]:
        _, a = _run(strides, flags, length=dict.fromkeys(BAD, scale), finish=False)
        r = a.rep
        assert r is not None and r.ready
        return (r.shorter_cusum.s, r.length_baseline.mean, r.length_baseline.n,
                r.length_whitener.prev, r.length_recovery.run, r.length_spread.sd,
                r.length_spread.phi, r.slower_cusum.s, r.time_baseline.mean)  # fmt: skip

    assert state(0.5) == state(1.0) == state(1.5)


def test_a_skip_predicts_across_and_leaves_the_cusum() -> None:
    strides = _steady()
    _, a = _run(strides[:80], {}, finish=False)
    rep = a.rep
    assert rep is not None and rep.ready
    cusum, predicted, time_n = rep.shorter_cusum.s, rep.length_whitener.prev, rep.time_baseline.n
    for k in BAD:
        predicted *= rep.length_whitener.phi  # (a retune may move phi on the way)
        s = strides[k]
        a.feed_values(s.t_s, s.stride_time_s, 0.5 * s.stride_length_m, math.nan, k, LOW)
    assert rep.shorter_cusum.s == cusum
    # the whitener predicted across the six strides (phi^6 of where it was) ...
    assert rep.length_whitener.prev == pytest.approx(predicted)
    # ... while rhythm, which the flag does not doubt, went on learning
    assert rep.time_baseline.n == time_n + len(BAD)


def test_an_untrusted_length_cannot_clear_a_shortening_alarm() -> None:
    # a real 10 % shortening from stride 60, then from stride 90 strides that read normal
    strides = _steady(seed=3)
    drop = {k: 0.9 for k in range(60, 90)}
    plain, _ = _run(strides, {}, length=drop)
    assert [k for k, _ in _alerts(plain)] == ["stride_shortening", "recovered"]
    assert 90 <= _alerts(plain)[1][1] <= 95
    # the strides that read normal are flagged: they cannot say the athlete recovered
    flags = dict.fromkeys(range(90, 120), LOW)
    flagged, _ = _run(strides, flags, length=drop)
    alerts = _alerts(flagged)
    assert alerts[0] == _alerts(plain)[0]
    # recovered only once trusted strides (from 120) show it
    assert alerts[1][0] == "recovered" and 120 <= alerts[1][1] <= 130


def test_rhythm_ignores_gap_and_first_strides_time() -> None:
    strides = _steady()
    slow = dict.fromkeys(BAD, 1.10)  # stride times 10 % long: samples were missing
    plain, _ = _run(strides, {}, time=slow)
    assert _alerts(plain)[0] == ("rhythm_loss", 81)
    for flag in (StrideFlag.GAP, StrideFlag.FIRST):
        flagged, _ = _run(strides, dict.fromkeys(BAD, int(flag)), time=slow)
        assert _alerts(flagged) == []
        assert _summary(flagged)["duration_s"] == _summary(plain)["duration_s"]
    # a turn's time is real: rhythm is still judged on it
    turned, _ = _run(strides, dict.fromkeys(BAD, int(StrideFlag.TURN)), time=slow)
    assert _alerts(turned)[0] == ("rhythm_loss", 81)


def test_first_strides_contact_time_is_not_a_gait_figure() -> None:
    strides = _steady(n=60)
    # a stride from standing inside a rep: its contact is the standing stance (0.4 s)
    a = Analyzer()
    events: list[Event] = []
    for k, s in enumerate(strides):
        first = k == 30
        ct = 0.4 if first else s.contact_time_s
        flags = int(StrideFlag.FIRST) if first else 0
        events.extend(a.feed(StrideIn(s.t_s, s.stride_time_s, s.stride_length_m, ct, k, flags)))
    events.extend(a.finish())
    mean = sum(s.contact_time_s for k, s in enumerate(strides) if k != 30) / 59
    assert _summary(events)["mean_contact_time_s"] == pytest.approx(mean, abs=1e-4)


def test_untrusted_strides_while_the_baseline_is_learnt() -> None:
    # flagged strides among the first 24 that set the baseline: both baselines are still
    # learnt (the length one a stride or two later), from trusted strides only
    first = AnalyzerSettings().settle_strides
    flags = {first + 2: LOW, first + 5: int(StrideFlag.GAP), first + 6: int(StrideFlag.TURN)}
    short = dict.fromkeys(flags, 0.6)
    strides = _steady(n=60)
    events, _ = _run(strides, flags, length=short)
    assert not _alerts(events)

    def baseline_m(flags: dict[int, int], length: dict[int, float]) -> float:
        _, a = _run(strides, flags, length=length, finish=False)
        assert a.rep is not None and a.rep.ready  # the detectors armed
        return math.exp(a.rep.length_baseline.mean)

    clean = baseline_m({}, {})
    # the 0.6 x strides were not learnt: the baseline is the athlete's (within the three
    # trusted strides fewer it rests on), where unflagged they would pull it down
    assert baseline_m(flags, short) == pytest.approx(clean, rel=0.005)
    assert baseline_m({}, short) < 0.97 * clean


def test_whitener_predicts_across_skips_without_a_jump() -> None:
    # an AR(1) stride series with a fifth of its strides skipped: the residuals of the
    # rest stay unit-variance and uncorrelated (what the CUSUM thresholds assume)
    rng = np.random.default_rng(11)
    phi, sd, n = 0.5, 0.02, 200_000
    e = rng.standard_normal(n) * sd * math.sqrt(1 - phi * phi)
    y = np.empty(n)
    y[0] = sd * rng.standard_normal()
    for k in range(1, n):
        y[k] = phi * y[k - 1] + e[k]
    skip = rng.random(n) < 0.2
    w = Ar1Whitener(phi=phi, sd=sd)
    w.prev = y[0]
    z = []
    for k in range(1, n):
        if skip[k]:
            w.skip()
        else:
            z.append(w.residual(float(y[k])))
    r = np.asarray(z)
    assert r.std() == pytest.approx(1.0, abs=0.01)
    assert abs(float(np.corrcoef(r[1:], r[:-1])[0, 1])) < 0.01
    # one skip by hand: predicted by phi^2, scaled by 1 / sqrt(1 + phi^2)
    w = Ar1Whitener(phi=phi, sd=sd)
    w.prev = 0.01
    w.skip()
    expected = (0.03 - phi * phi * 0.01) / (sd * math.sqrt(1 - phi * phi) * math.sqrt(1.25))
    assert w.residual(0.03) == pytest.approx(expected)
    assert w.residual(0.03) == pytest.approx((0.03 - phi * 0.03) / (sd * math.sqrt(0.75)))


def test_baseline_never_pairs_strides_across_a_skip() -> None:
    # alternating +-d: lag-1 pairs are perfectly anti-correlated; a pair across a skip
    # (lag 2) would be perfectly correlated, so counting one would show in the spread's n
    def fed(skip_at: set[int]) -> Spread:
        spread = Spread(floor_sd=0.02, phi=0.3, prior_n=0, phi_prior_n=0, max_n=1000)
        b = LogBaseline(window=6, guard=3, max_n=100, spread=spread)
        for k in range(30):
            if k in skip_at:
                b.skip()
            else:
                b.add(0.02 if k % 2 else -0.02)
        return spread

    # 30 strides: the 6 that set the baseline give 5 pairs, then 3 wait in the delay and
    # 21 join, each paired with the one before it
    assert fed(set()).n == 26
    # a skip in the learning window (stride 3): pairs 0-1, 1-2, 4-5, 5-6, none across
    # it; then 20 join (strides 7..26), each paired
    assert fed({3}).n == 4 + 20
    # one more after it (stride 17), through the delay: 17 is no value and 18 has no
    # neighbour, so 18 of the 20 are paired
    assert fed({3, 17}).n == 4 + 18


def test_flag_masks_and_their_spelling() -> None:
    assert int(StrideFlag.LOW_QUALITY | StrideFlag.TURN | StrideFlag.GAP) == LENGTH_DOUBT
    assert int(StrideFlag.GAP | StrideFlag.FIRST) == TIME_DOUBT
    assert parse_flags("") == 0
    assert parse_flags("68") == parse_flags("0x44") == parse_flags("low_quality|TURN") == 0x44
    assert parse_flags("GAP + FIRST") == 0x30
    with pytest.raises(ValueError, match="'TWIST' is not a stride flag"):
        parse_flags("TWIST")
    with pytest.raises(ValueError, match="16-bit"):
        parse_flags("70000")


# --- the flags on their way: the live pipeline, its recording, a replay, a CSV ---


def _records(flagged: bool) -> list[StrideEvent]:
    """A 160-stride rep as the pod sends it: strides 80-85 read 15 % short (a bend the
    pod measured badly), flagged LOW_QUALITY when ``flagged``."""
    flags = dict.fromkeys(SHORT, StrideFlag.LOW_QUALITY) if flagged else {}
    return rep_records(_steady(), flags, SHORT)


async def _live(folder: Path, flagged: bool, *views: io.StringIO) -> tuple[list[Event], CuePod]:
    """The records through the live pipeline (a practice), recorded to ``folder``; the
    terminal's event lines go to ``views`` (the coach's, then the verbose one)."""

    def watch(practice: Practice) -> None:
        for k, out in enumerate(views):
            View(practice, "practice", out, live=False, verbose=k == 1, interactive=False)

    return await live_rep(folder, _records(flagged), watch)


async def test_live_a_flagged_bend_sends_no_stride_buzz_and_replays_the_same(
    tmp_path: Path,
) -> None:
    plain, plain_pod = await _live(tmp_path / "plain", flagged=False)
    coach, verbose = io.StringIO(), io.StringIO()
    flagged, flagged_pod = await _live(tmp_path / "flagged", True, coach, verbose)
    # live: believed, the short strides buzz the athlete; flagged, nothing is sent
    assert "stride_shortening" in [k for k, _ in _alerts(plain)]
    assert Pattern.STRIDE in [c.pattern for c in plain_pod.cues]
    assert _alerts(flagged) == [] and flagged_pod.cues == []
    assert _summary(flagged)["doubtful_strides"] == len(BAD)
    assert _summary(flagged)["distance_m"] == _summary(plain)["distance_m"]
    # the recording keeps the flags, and its analysis (report, export) sees them
    for folder, live in ((tmp_path / "plain", plain), (tmp_path / "flagged", flagged)):
        ana = load(folder).athlete("Ana")
        assert [s.flags for s in ana.strides if s.flags] == (
            [int(StrideFlag.LOW_QUALITY)] * len(BAD) if folder.name == "flagged" else []
        )
        assert _alerts(ana.events) == _alerts(live)
        assert ana.reps[0].summary["doubtful_strides"] == _summary(live)["doubtful_strides"]
    # the coach's view keeps to the coach's words; -v and the report count them
    words = "6 of 160 strides measured poorly by the pod"
    assert "rep 1: " in coach.getvalue() and "measured poorly" not in coach.getvalue()
    assert words in verbose.getvalue()
    data = load(tmp_path / "flagged")
    page = report_html.write(data, tmp_path / "report").read_text()
    assert f"rep 1: {words}" in page
    (row,) = parquet_rows(data)["reps"]
    assert row["doubtful_strides"] == len(BAD)


def test_analyze_csv_reads_a_flags_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = S.to_csv_rows(
        [
            S.StrideTruth(s.t_s, s.stride_time_s, s.contact_time_s,
                          s.stride_length_m * SHORT.get(k, 1.0), s.speed_mps)
            for k, s in enumerate(_steady())
        ]
    )  # fmt: skip
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(rows) + "\n")
    flagged = tmp_path / "flagged.csv"
    flags = ["flags"] + ["LOW_QUALITY" if k in SHORT else "" for k in range(len(rows) - 1)]
    flagged.write_text("\n".join(f"{r},{f}" for r, f in zip(rows, flags, strict=True)) + "\n")
    assert main(["analyze", str(plain), "--json"]) == 0
    assert '"stride_shortening"' in capsys.readouterr().out
    assert main(["analyze", str(flagged), "--all", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert not [x for x in lines if x["kind"] in ALERTS]
    (summary,) = [x["detail"] for x in lines if x["kind"] == "rep_summary"]
    assert summary["doubtful_strides"] == len(BAD)
    # a flags cell that is no flag: one line that says what to write
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,stride_time_s,stride_length_m,flags\n1.0,0.48,3.6,WOBBLY\n")
    assert main(["analyze", str(bad)]) != 0
    err = capsys.readouterr().err
    assert "line 2: flags 'WOBBLY' is not a stride flag" in err and "Traceback" not in err
