"""A session folder is untrusted input: whatever is wrong with a file in it, every command that
reads a session says so in one line naming the file and how to fix it, exits non-zero, never
prints a traceback, never reads outside the folder and never waits on a FIFO; what can be read
is kept (bad mark lines are skipped and counted, a damaged folder is listed, not hidden) and a
damaged session.json can be rebuilt from the frames (`stridecue sessions --repair`).
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stridecue.cli import main
from stridecue.commands.sessions import _row
from stridecue.dashboard import Timeline
from stridecue.errors import StrideCueError
from stridecue.export import encode_fit, exportable
from stridecue.recorder import repair
from stridecue.session import (
    HOST_NS_END,
    MAX_FRAMES_BYTES,
    MAX_META_BYTES,
    MAX_OFFSET_MS,
    MAX_SPEED,
    Session,
    SessionError,
)
from stridecue.sessiondata import load
from test_bad_files_cli import _closed_reader, refused
from test_dashboard_data import write_session
from test_session_reader import T0, small_session

META = "session.json"
ADA = "pods/pod-ada.scf"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_session(tmp_path_factory.mktemp("t"), athletes=2, reps=1)


@pytest.fixture
def session(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of a good two-athlete session, to damage."""
    path = tmp_path / "s"
    shutil.copytree(template, path, symlinks=True)
    return path


def _meta(path: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((path / META).read_text())
    return meta


def _set(*keys: str, value: object) -> Callable[[Path], Path]:
    """Damage: one value of session.json replaced (written as Python's json writes it)."""

    def damage(path: Path) -> Path:
        meta = _meta(path)
        d = meta
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
        (path / META).write_text(json.dumps(meta))
        return path / META

    return damage


def _meta_text(text: str | bytes) -> Callable[[Path], Path]:
    def damage(path: Path) -> Path:
        data = text.encode() if isinstance(text, str) else text
        (path / META).write_bytes(data)
        return path / META

    return damage


def _outside(rel: str) -> Callable[[Path], Path]:
    """Damage: the file moved out of the session, a symbolic link to it left in its place."""

    def damage(path: Path) -> Path:
        out = path.parent / "elsewhere"
        shutil.move(path / rel, out)
        (path / rel).symlink_to(out)
        return path / rel

    return damage


def _fifo(rel: str) -> Callable[[Path], Path]:
    def damage(path: Path) -> Path:
        (path / rel).unlink()
        os.mkfifo(path / rel)
        return path / rel

    return damage


def _folder(rel: str) -> Callable[[Path], Path]:
    def damage(path: Path) -> Path:
        (path / rel).unlink()
        (path / rel).mkdir()
        return path / rel

    return damage


def _sparse(rel: str, size: int) -> Callable[[Path], Path]:
    def damage(path: Path) -> Path:
        with (path / rel).open("r+b") as f:
            f.truncate(size)  # sparse: no disk used, but a reader would take it all
        return path / rel

    return damage


def _pods_outside(path: Path) -> Path:
    shutil.move(path / "pods", path.parent / "pods-elsewhere")
    (path / "pods").symlink_to(path.parent / "pods-elsewhere")
    return path / ADA


def _link_loop(path: Path) -> Path:
    (path / ADA).unlink()
    (path / ADA).symlink_to(path / ADA)
    return path / ADA


def _not_frames(path: Path) -> Path:
    (path / ADA).write_text("hello, not frames\n")
    return path / ADA


def _no_meta(path: Path) -> Path:
    (path / META).unlink()
    return path / META


def _deep(path: Path) -> Path:
    return _meta_text("[" * 100_000 + "]" * 100_000)(path)


def _huge_int(path: Path) -> Path:
    text = (path / META).read_text()
    (path / META).write_text(text.replace(str(_meta(path)["start_ns"]), "1" + "0" * 30))
    return path / META


#: damage done to a good session -> what the one line says (it also names the file)
DAMAGE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "meta_list": (_meta_text("[1, 2]"), "is [1, 2], not an object"),
    "meta_string": (_meta_text('"practice"'), "is 'practice', not an object"),
    "meta_binary": (_meta_text(b"\xff\xfe\x00{"), "not UTF-8 text"),
    "meta_cut_short": (_meta_text('{"pods": {"pod-ada": {'), "not JSON (Expecting"),
    "meta_deep": (_deep, "nested too deeply"),
    "meta_huge": (_sparse(META, MAX_META_BYTES + 1), "is over 4 MiB"),
    "pods_list": (_set("pods", value=[1]), '"pods" is [1], not an object'),
    "pod_number": (_set("pods", "pod-ada", value=5), '"pods.pod-ada" is 5, not an object'),
    "athletes_list": (_set("athletes", value=["Ada"]), "\"athletes\" is ['Ada'], not an"),
    "athlete_number": (_set("athletes", "pod-ada", value=7), '"athletes.pod-ada" is 7, not text'),
    "settings_list": (_set("settings", value=[]), '"settings" is [], not an object'),
    "start_text": (_set("start_ns", value="soon"), "\"start_ns\" is 'soon', not a whole number"),
    "start_huge": (_huge_int, '"start_ns" is 1000000000000000000000000000000, not'),
    "start_float": (_set("start_ns", value=1e30), '"start_ns" is 1e+30, not a whole number'),
    "duration_nan": (_set("duration_s", value=math.nan), '"duration_s" is nan, not a number'),
    "speed_huge": (_set("settings", "speed", value=1e308), '"settings.speed" is 1e+308'),
    "speed_negative": (_set("settings", "speed", value=-2), '"settings.speed" is -2, not'),
    "offset_huge": (
        _set("pods", "pod-ada", "clock_offset_ms", value=1e300),
        '"pods.pod-ada.clock_offset_ms" is 1e+300',
    ),
    "offset_inf": (
        _set("pods", "pod-ben", "clock_offset_ms", value=math.inf),
        '"pods.pod-ben.clock_offset_ms" is inf',
    ),
    "rsc_only_text": (_set("pods", "pod-ada", "rsc_only", value="no"), "is 'no', not true or"),
    "name_escapes": (
        _set("athletes", "pod-ada", value="Ada\x1b]0;owned\x07"),
        "\"athletes.pod-ada\" is 'Ada\\x1b]0;owned\\x07', a name with control characters",
    ),
    "newer_format": (_set("format", value=9), "recorded by a newer stridecue, upgrade it"),
    "file_escapes": (
        _set("pods", "pod-ada", "file", value="../../outside.scf"),
        "is '../../outside.scf', not the name of a file in the session's pods/ folder",
    ),
    "file_absolute": (_set("pods", "pod-ada", "file", value="/etc/passwd"), "not the name of"),
    "file_twice": (
        _set("pods", "pod-ben", "file", value="pod-ada.scf"),
        "\"pods.pod-ben.file\" is 'pod-ada.scf', the file of pod 'pod-ada' too",
    ),
    "settings_stored_bad": (
        _set("analysis", value={"settings": {"split_m": 10**400}}),
        "the stored analysis is unreadable",
    ),
    "meta_missing": (_no_meta, "is missing, but pods/ holds 2 frame file(s): rebuild it"),
    "frames_link_outside": (_outside(ADA), "leads out of the session folder"),
    "meta_link_outside": (_outside(META), "leads out of the session folder"),
    "pods_link_outside": (_pods_outside, "leads out of the session folder"),
    "frames_link_loop": (_link_loop, "cannot follow it"),
    "frames_fifo": (_fifo(ADA), "is a FIFO, not a file"),
    "meta_fifo": (_fifo(META), "is a FIFO, not a file"),
    "frames_folder": (_folder(ADA), "is a folder, not a file"),
    "frames_huge": (_sparse(ADA, MAX_FRAMES_BYTES + 1), "is over 64 MiB"),
    "frames_not_scf": (_not_frames, "not a StrideCue frame file (no SCFRAME1 header)"),
}
#: every line says how to fix what it names: one of these
FIXES = (
    "`stridecue sessions --repair ",
    "copy the file into the folder",
    "move it out of",
    "replace it by the file itself",
)


def _argv(command: str, path: Path, out: Path | None = None) -> list[str]:
    to = str(out or path.parent / f"{command}-out")
    return {
        "sessions": ["sessions", "--sessions-dir", str(path.parent)],
        "replay": ["replay", str(path), "--fast", "--headless"],
        "report": ["report", str(path), "-o", to],
        "export": ["export", str(path), "-o", to],
        "fit": ["export", str(path), "--format", "fit", "-o", to],
    }[command]


@pytest.mark.parametrize("command", ["replay", "report", "export", "fit"])
@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_session_is_one_line(
    session: Path, capsys: pytest.CaptureFixture[str], case: str, command: str
) -> None:
    damage, says = DAMAGE[case]
    bad = damage(session)
    err = refused(capsys, _argv(command, session), bad, says)
    assert any(fix in err for fix in FIXES), err
    assert not (session.parent / f"{command}-out").exists()  # nothing written


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_session_refused_by_the_dashboard_replay(session: Path, case: str) -> None:
    damage, says = DAMAGE[case]
    bad = damage(session)
    with pytest.raises(SessionError) as e:
        Timeline.load(session)
    assert str(bad) in str(e.value) and says in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
@pytest.mark.parametrize("rel", [META, ADA])
def test_unreadable_file_is_one_line(
    session: Path, capsys: pytest.CaptureFixture[str], rel: str
) -> None:
    (session / rel).chmod(0)
    try:
        refused(capsys, _argv("report", session), session / rel, "Permission denied")
    finally:
        (session / rel).chmod(0o644)


def test_a_path_in_session_json_never_reads_outside(session: Path) -> None:
    # the frames the escaping path names are good frames: they must not replay all the same
    shutil.copy(session / ADA, session.parent / "outside.scf")
    _set("pods", "pod-ada", "file", value="../../outside.scf")(session)
    with pytest.raises(SessionError, match="a session reads only its own files"):
        Session.open(session)


# --- what can be read is kept ---------------------------------------------------------


def _marks(path: Path, data: bytes) -> None:
    (path / "marks.jsonl").write_bytes(data)


def _mark(host_ns: object, text: object = "lap", **more: object) -> bytes:
    return json.dumps({"host_ns": host_ns, "text": text, **more}).encode() + b"\n"


def test_bad_mark_lines_are_skipped_and_counted_by_every_reader(
    session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = (session / "marks.jsonl").read_bytes()  # two laps
    bad = [
        b"\xff\xfe not UTF-8\n",
        b"{not json\n",
        b"[1, 2]\n",
        _mark(1e308),
        _mark(HOST_NS_END),
        _mark(-1),
        _mark(True),
        _mark(T0, text=7),
        _mark(T0, athlete=["Ada"]),
        b"[" * 5000 + b"\n",
        b'{"host_ns": 1, "text": "cut sh',  # the recorder was killed mid-line
    ]
    _marks(session, bad[0] + good + b"".join(bad[1:]))
    s = Session.open(session)
    assert [m.text for m in s.marks()] == ["lap", "lap"]
    (note,) = s.problems
    assert note.startswith(f"marks.jsonl: {len(bad)} line(s) skipped, not a mark")
    assert "(line 1, 4, 5, 6, 7, ...); the other 2 marks are read" in note
    assert Timeline.load(session).problems == s.problems == load(session).problems
    assert main(_argv("report", session)) == 0
    assert f"note: {note}" in capsys.readouterr().out
    assert main(_argv("export", session)) == 0
    assert f"note: {note}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_outside("marks.jsonl"), "leads out of the session folder"),
        (_fifo("marks.jsonl"), "is a FIFO"),
        (_sparse("marks.jsonl", 5 << 20), "is over 4 MiB"),
    ],
    ids=["link_outside", "fifo", "huge"],
)
def test_marks_that_cannot_be_read_leave_the_rest(
    session: Path, damage: Callable[[Path], Path], says: str
) -> None:
    damage(session)
    data = load(session)
    (note,) = data.problems
    assert note.startswith("no marks read: ") and says in note
    assert all(a.strides and not a.marks for a in data.athletes)


def test_missing_and_unlisted_frame_files_are_named(session: Path) -> None:
    (session / ADA).rename(session / "pods" / "spare.scf")
    s = Session.open(session)
    assert s.problems == [
        "pods/pod-ada.scf is missing: no frames of pod pod-ada",
        "pods/spare.scf is not in session.json, so its frames are not read; "
        f"`stridecue sessions --repair {session}` adds it",
    ]
    assert len(s.files["pod-ben"]) > 100


# --- the sessions list, and --repair ----------------------------------------------------


def _root(template: Path, tmp_path: Path, **damaged: Callable[[Path], Path]) -> Path:
    root = tmp_path / "sessions"
    for name in ("a-good", *damaged, "z-good"):
        shutil.copytree(template, root / name, symlinks=True)
        if name in damaged:
            damaged[name](root / name)
    return root


def test_sessions_lists_the_good_and_names_the_damaged(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _root(
        template,
        tmp_path,
        b_list=_meta_text("[]"),
        c_deleted=_no_meta,
        d_speed=_set("settings", "speed", value=1e308),
        e_fifo=_fifo(META),
    )
    (root / "not-a-session").mkdir()  # no session.json and no frames: not listed
    assert main(["sessions", "--sessions-dir", str(root)]) == 1
    captured = capsys.readouterr()
    rows = {line.split()[0]: line for line in captured.out.splitlines()[1:] if line.strip()}
    assert list(rows)[:6] == ["a-good", "b_list", "c_deleted", "d_speed", "e_fifo", "z-good"]
    assert "Ada, Ben" in rows["a-good"] and "Ada, Ben" in rows["z-good"]
    assert "damaged: session.json: is [], not an object" in rows["b_list"]
    assert "damaged: session.json is missing, but pods/ holds 2 frame file(s)" in rows["c_deleted"]
    assert f"--repair {root / 'c_deleted'}`" in rows["c_deleted"]
    assert '"settings.speed" is 1e+308' in rows["d_speed"]
    assert "is a FIFO" in rows["e_fifo"]
    assert "6 session(s) in" in captured.out
    assert captured.err.splitlines() == [
        "stridecue sessions: error: 4 of 6 sessions damaged (b_list, c_deleted, d_speed, ...): "
        "what is wrong is listed above"
    ]


def test_repair_rebuilds_from_the_frames_and_keeps_the_old_file(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _root(template, tmp_path, deleted=_no_meta, listed=_meta_text("[1, 2]"))
    assert main(["sessions", "--sessions-dir", str(root), "--repair", "deleted"]) == 0
    assert capsys.readouterr().out == (
        f"{root / 'deleted'}: session.json rebuilt (added pod(s) pod-ada, pod-ben from their "
        "frame files)\n"
    )
    assert main(["sessions", "--repair", str(root / "listed")]) == 0
    assert "the old one is kept as session.json.before-repair" in capsys.readouterr().out
    assert (root / "listed" / "session.json.before-repair").read_text() == "[1, 2]"
    assert main(["sessions", "--sessions-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.count("(metadata rebuilt by --repair)") == 2
    # the frames are all there: the same strides, placed by their arrival (no time sync kept)
    good = load(root / "a-good")
    for name in ("deleted", "listed"):
        data = load(root / name)
        assert [a.name for a in data.athletes] == ["pod-ada", "pod-ben"]
        for a, b in zip(data.athletes, good.athletes, strict=True):
            assert [s.seq for s in a.strides] == [s.seq for s in b.strides]
            assert a.strides[5].t_s == pytest.approx(b.strides[5].t_s, abs=0.05)
        assert main(_argv("fit", root / name)) == 0


def test_repair_keeps_what_passes_its_check(session: Path, template: Path) -> None:
    _set("settings", "speed", value=1e308)(session)
    _set("pods", "pod-ben", "clock_offset_ms", value="late")(session)
    before = _meta(session)
    said = repair(session)
    assert "left out what did not pass its check: settings, pods.pod-ben" in said
    assert "added pod(s) pod-ben+" not in said and "added pod(s) pod-ben" in said
    after = _meta(session)
    assert after["athletes"] == before["athletes"]
    assert after["pods"]["pod-ada"] == before["pods"]["pod-ada"]  # its time sync is kept
    assert after["pods"]["pod-ben"] == {"file": "pod-ben.scf"}
    assert after["start_ns"] == before["start_ns"] and "settings" not in after
    assert load(session).athlete("Ada").strides == load(template).athlete("Ada").strides


def test_repair_of_a_sound_session_writes_nothing(session: Path) -> None:
    before = (session / META).read_bytes()
    assert repair(session).endswith("is sound and names every frame file: nothing to repair")
    assert (session / META).read_bytes() == before
    assert not (session / "session.json.before-repair").exists()


def test_repair_of_no_session_and_on_a_read_only_disk(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    refused(capsys, ["sessions", "--repair", str(empty)], empty, "is not a session folder")
    _no_meta(session)

    def read_only(src: object, dst: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "replace", read_only)
    refused(capsys, ["sessions", "--repair", str(session)], session, "Read-only file system")
    assert not (session / META).exists() and (session / ADA).exists()


@pytest.mark.parametrize("command", ["sessions", "replay", "report", "export"])
def test_piped_into_head_ends_quietly(template: Path, tmp_path: Path, command: str) -> None:
    r = _closed_reader(*_argv(command, template, tmp_path / "out"))
    assert r.stderr == ""
    assert r.returncode == 141


# --- session.json of any shape: it loads, or it is one SessionError ------------------------

EDGES = [
    0, -1, 1, 2**63, HOST_NS_END - 1, HOST_NS_END, 10**30, 1e308, -1e308, 1e300, math.nan,
    math.inf, MAX_SPEED, MAX_SPEED + 1, "", ".", "..", "../x.scf", "/etc/passwd", "p1.scf",
    "a/b", True, False, None, [], {},
]  # fmt: skip
JSON = st.recursive(
    st.sampled_from(EDGES)
    | st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(["p1", "file", "speed"]), inner)
    ),
    max_leaves=12,
)
#: numbers across and beyond every range session.json allows, and at its edges
NUMBERS = (
    st.floats()
    | st.integers(min_value=-(2**66), max_value=2**66)
    | st.integers(min_value=0, max_value=HOST_NS_END - 1)
    | st.floats(min_value=0, max_value=MAX_SPEED)
    | st.floats(min_value=-MAX_OFFSET_MS, max_value=MAX_OFFSET_MS)
)
#: where in a real session.json a value is replaced
KEYS = [
    (), ("format",), ("start_ns",), ("duration_s",), ("start_time",), ("end_time",),
    ("frames",), ("athletes",), ("athletes", "p1"), ("pods",), ("pods", "p1"),
    ("pods", "p1", "file"), ("pods", "p1", "clock_offset_ms"), ("pods", "p1", "rsc_only"),
    ("pods", "p1", "clock_uncertainty_ms"), ("pods", "p1", "name"), ("settings",),
    ("settings", "speed"), ("analysis",), ("analysis", "settings"), ("analysis", "targets"),
    ("analysis", "settings", "split_m"), ("analysis", "targets", 0),
    ("analysis", "targets", 0, "host_ns"), ("analysis", "targets", 0, "cadence_spm"),
]  # fmt: skip


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = small_session(tmp_path_factory.mktemp("h") / "s")
    meta = _meta(path)
    meta["pods"]["p1"]["clock_offset_ms"] = T0 / 1e6
    meta["analysis"] = {
        "settings": {"split_m": 100.0},
        "targets": [{"pod": "p1", "host_ns": T0, "cadence_spm": 180.0}],
    }
    return path, meta


def _replaced(meta: Any, keys: tuple[str | int, ...], value: object) -> Any:
    if not keys:
        return value
    out = json.loads(json.dumps(meta))
    d = out
    for k in keys[:-1]:
        d = d[k]
    d[keys[-1]] = value
    return out


def _every_reader(path: Path) -> None:
    """Open the session as each command does: it loads, or it is one SessionError."""
    try:
        s = Session.open(path)
    except SessionError as e:
        assert "\n" not in str(e) and str(path) in str(e) and len(str(e)) < 600
        return
    _row(path)
    Timeline.load(path)
    data = load(path)
    for a in data.athletes:
        kept, _ = exportable(a)
        if kept.strides:
            try:
                encode_fit(data, kept)
            except StrideCueError as e:  # a clock FIT cannot date: said in one line
                assert "outside the dates a FIT file holds" in str(e)
    assert s.speed > 0 and math.isfinite(s.duration_s())


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(keys=st.sampled_from(KEYS), value=JSON | NUMBERS)
def test_any_value_anywhere_in_session_json(
    small: tuple[Path, dict[str, Any]], keys: tuple[str | int, ...], value: object
) -> None:
    path, meta = small
    (path / META).write_text(json.dumps(_replaced(meta, keys, value)))
    _every_reader(path)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_as_session_json_or_marks(
    small: tuple[Path, dict[str, Any]], data: bytes
) -> None:
    path, meta = small
    (path / META).write_bytes(data)
    _every_reader(path)
    (path / META).write_text(json.dumps(meta))
    (path / "marks.jsonl").write_bytes(data)
    s = Session.open(path)
    assert len(s.problems) <= 1  # bad lines: one note that counts them
    _every_reader(path)


#: numbers at the edges of what session.json allows: every command works, or says in one
#: line why it cannot (a FIT file holds only dates from 1998 to 2126)
EDGE_OF_RANGE = {
    "start_zero": (("start_ns",), 0),
    "start_last": (("start_ns",), HOST_NS_END - 1),
    "offset_max": (("pods", "pod-ada", "clock_offset_ms"), MAX_OFFSET_MS),
    "offset_min": (("pods", "pod-ada", "clock_offset_ms"), -MAX_OFFSET_MS),
    "speed_max": (("settings", "speed"), MAX_SPEED),
    "speed_zero": (("settings", "speed"), 0),
    "duration_max": (("duration_s",), HOST_NS_END / 1e9),
}


@pytest.mark.parametrize("command", ["replay", "report", "fit"])
@pytest.mark.parametrize("case", EDGE_OF_RANGE)
def test_numbers_at_the_edge_of_their_range(
    session: Path, capsys: pytest.CaptureFixture[str], case: str, command: str
) -> None:
    keys, value = EDGE_OF_RANGE[case]
    _set(*keys, value=value)(session)
    code = main(_argv(command, session))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code:
        assert command == "fit" and case.startswith("offset"), err
        assert len(err.splitlines()) == 1 and "outside the dates a FIT file holds" in err
    Timeline.load(session)


# --- what a session command writes stays where it should ----------------------------------


@pytest.mark.parametrize("command", ["report", "export"])
def test_default_output_never_leads_out_of_the_session(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (session / command).symlink_to(elsewhere)  # planted in a session someone sent
    says = "leads out of the session folder"
    err = refused(capsys, [command, str(session)], session / command, says)
    assert "remove that link, or give -o DIR" in err
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("command", ["report", "export"])
def test_a_link_among_the_outputs_is_replaced_not_written_through(
    session: Path, tmp_path: Path, command: str
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    out = session / command
    out.mkdir()
    name = "index.html" if command == "report" else f"{session.name}-Ada.csv"
    (out / name).symlink_to(victim)
    (out / f".{name}.tmp").symlink_to(victim)
    assert main([command, str(session)]) == 0
    assert victim.read_text() == "keep me"
    assert not (out / name).is_symlink() and (out / name).stat().st_size > 100
