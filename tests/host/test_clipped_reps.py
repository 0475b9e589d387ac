"""Reps the pod measured over its range: counted, judged, and said to the coach (issue #19).

A stride the pod flags ACC_SATURATED reads short (the lost deceleration at landing is
taken out of the whole stride), so a rep that clipped on most strides may read short.
The same rep runs with and without the flag: the distance, the alerts and what is
judged stay the same; the count and the coach's one line are what the flag adds.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import numpy as np
import pytest
from flaggedrep import live_rep, rep_records
from stridecue.analysis import Analyzer, Event
from stridecue.cli import main
from stridecue.dashboard.feed import Feed
from stridecue.dashboard.state import LiveState
from stridecue.export.parquet import rows as parquet_rows
from stridecue.liveview import View
from stridecue.practice import Practice
from stridecue.protocol import StrideFlag
from stridecue.report import html as report_html
from stridecue.sessiondata import load
from stridecue.sim import strides as S
from stridecue.training import clipped_count_words, clipped_words, rep_words

ACC = StrideFlag.ACC_SATURATED
GYRO = StrideFlag.GYRO_SATURATED
N = 160
#: 128 of the 160 strides clipped (all but every fifth): a sprint rep on a 16 g pod
MOST = frozenset(k for k in range(N) if k % 5)
#: 40 of 160 clipped: some, not most
SOME = frozenset(range(0, N, 4))
LINE = "pod was over its range on 128 of 160 strides: this rep's distance may read short"


def _steady() -> list[S.StrideTruth]:
    """One even sprint rep (2 % natural spread)."""
    return S.steady(np.random.default_rng(11), S.SPRINT, N).strides


def _analyze(clipped: frozenset[int], flag: StrideFlag) -> list[Event]:
    a = Analyzer()
    out: list[Event] = []
    for k, s in enumerate(_steady()):
        f = int(flag) if k in clipped else 0
        out.extend(a.feed_values(s.t_s, s.stride_time_s, s.stride_length_m, s.contact_time_s, k, f))
    out.extend(a.finish())
    return out


def _summary(events: list[Event]) -> dict[str, object]:
    (summary,) = [e.detail for e in events if e.kind == "rep_summary"]
    return summary


def _judged(events: list[Event]) -> list[tuple[str, int]]:
    return [(str(e.kind), e.stride_index) for e in events if e.kind != "rep_summary"]


@pytest.mark.parametrize(
    ("clipped", "flag", "count"),
    [
        (MOST, ACC, len(MOST)),
        (MOST, ACC | GYRO, len(MOST)),
        (MOST, GYRO, 0),  # the gyro's plateau is bridged: not counted
        (SOME, ACC, len(SOME)),
        (frozenset(), ACC, 0),
    ],
)
def test_clipped_strides_are_counted_and_still_judged(
    clipped: frozenset[int], flag: StrideFlag, count: int
) -> None:
    plain = _analyze(frozenset(), ACC)
    flagged = _analyze(clipped, flag)
    summary = _summary(flagged)
    assert summary["clipped_strides"] == count
    assert summary["doubtful_strides"] == 0
    # judged on purpose: the same splits and alerts, the same distance, as unflagged
    assert _judged(flagged) == _judged(plain)
    without = {k: v for k, v in summary.items() if k != "clipped_strides"}
    assert without == {k: v for k, v in _summary(plain).items() if k != "clipped_strides"}
    # the coach's line only when most strides clipped
    assert (LINE in rep_words(summary)) == (count > N // 2)


def test_the_line_needs_more_than_half() -> None:
    half = {"rep": 0, "strides": 16, "clipped_strides": 8, "distance_m": 100.0}
    assert clipped_words(half) == ""
    counts = "8 of 16 strides over the pod's range: judged, in the distance"
    assert clipped_count_words(half) == counts
    more = {**half, "clipped_strides": 9}
    assert clipped_words(more, "Ana") == (
        "Ana's pod was over its range on 9 of 16 strides: this rep's distance may read short"
    )
    assert clipped_count_words(more) == ""  # the coach's line already has the counts
    # an older recording's summary has no count: nothing is said
    assert clipped_words({"strides": 16}) == clipped_count_words({"strides": 16}) == ""


# --- the live pipeline, its recording, the report, the Parquet export, the dashboard ---


async def _live(
    folder: Path, clipped: frozenset[int], flag: StrideFlag
) -> tuple[list[Event], str, str, list[str]]:
    """The rep through a practice recorded to ``folder``: its events, the coach's and the
    verbose terminal lines, and the dashboard tile's notes."""
    coach, verbose = io.StringIO(), io.StringIO()
    state = LiveState()

    def watch(practice: Practice) -> None:
        View(practice, "practice", coach, live=False, interactive=False)
        View(practice, "practice", verbose, live=False, verbose=True, interactive=False)
        practice.subscribe(Feed(state))

    records = rep_records(_steady(), dict.fromkeys(clipped, flag))
    events, _ = await live_rep(folder, records, watch)
    tile = [a.text for a in state.athlete("pod").alerts]
    return events, coach.getvalue(), verbose.getvalue(), tile


@pytest.mark.parametrize(
    ("clipped", "flag", "said"),
    [(MOST, ACC, True), (frozenset(), ACC, False), (MOST, GYRO, False), (SOME, ACC, False)],
    ids=["most-acc", "none", "most-gyro-only", "some-acc"],
)
async def test_the_coach_is_told_where_the_rep_ends(
    tmp_path: Path, clipped: frozenset[int], flag: StrideFlag, said: bool
) -> None:
    events, coach, verbose, tile = await _live(tmp_path, clipped, flag)
    counted = len(clipped) if flag & ACC else 0
    assert _summary(events)["clipped_strides"] == counted
    # the terminal: one line where the rep ends, in the coach's words, no statistics
    rep_lines = [x for x in coach.splitlines() if "Ana: rep 1: " in x]
    assert len(rep_lines) == 1
    assert rep_lines[0].endswith(f"; the {LINE}") == said  # that sentence, nothing more
    assert coach.count("over its range") == int(said)
    assert ("the " + LINE in tile) == said  # the dashboard tile's rep notes
    # -v counts some clipping too
    some = f"{len(SOME)} of {N} strides over the pod's range: judged, in the distance"
    assert (some in verbose) == (clipped == SOME)
    assert (LINE in verbose) == said
    # the recording's analysis: report note, Parquet column
    data = load(tmp_path)
    assert data.athlete("Ana").reps[0].summary["clipped_strides"] == counted
    page = report_html.write(data, tmp_path / "report").read_text()
    assert (html.escape(f"rep 1: Ana's {LINE}") in page) == said
    assert (html.escape(f"rep 1: {some}") in page) == (clipped == SOME)
    (row,) = parquet_rows(data)["reps"]
    assert row["clipped_strides"] == counted


def test_analyze_reads_clipping_from_a_flags_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = S.to_csv_rows(_steady())
    flags = ["flags"] + ["ACC_SATURATED" if k in MOST else "" for k in range(len(rows) - 1)]
    csv = tmp_path / "clipped.csv"
    csv.write_text("\n".join(f"{r},{f}" for r, f in zip(rows, flags, strict=True)) + "\n")
    # the rep's line (with --all: by default analyze lists alerts only) says it
    assert main(["analyze", str(csv), "--all"]) == 0
    (rep,) = [x for x in capsys.readouterr().out.splitlines() if "rep 1: " in x]
    assert rep.endswith(f"; the {LINE}")
    assert main(["analyze", str(csv), "--all", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    (summary,) = [x["detail"] for x in lines if x["kind"] == "rep_summary"]
    assert summary["clipped_strides"] == len(MOST)
