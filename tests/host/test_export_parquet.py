"""`stridecue export --format parquet`: the versioned tables, read back by DuckDB."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from stridecue.cli import main
from stridecue.export.parquet import SCHEMA_VERSION, SCHEMAS, TABLES
from stridecue.sessiondata import load
from test_dashboard_data import write_session
from test_rsc_session import write_rsc_session


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sessions folder: a 2-athlete practice, a 3-athlete one, a Stryd session, an empty one."""
    r = tmp_path_factory.mktemp("sessions")
    write_session(r, athletes=2, reps=2, label="monday")
    write_session(r, athletes=3, reps=1, label="tuesday")
    write_rsc_session(r, reps=1, label="stryd")
    shutil.copytree(r / "monday", r / "empty")
    for f in (r / "empty" / "pods").iterdir():
        f.write_bytes(b"SCFRAME1")
    return r


def test_one_session_has_schema_and_metadata(root: Path, tmp_path: Path) -> None:
    assert main(["export", str(root / "monday"), "--format", "parquet", "-o", str(tmp_path)]) == 0
    folder = tmp_path / "monday"
    assert sorted(p.stem for p in folder.glob("*.parquet")) == sorted(TABLES)
    for name in TABLES:
        t = pq.read_table(folder / f"{name}.parquet")
        assert t.schema.remove_metadata() == SCHEMAS[name]
        meta = t.schema.metadata
        assert meta[b"stridecue.schema_version"] == str(SCHEMA_VERSION).encode()
        assert meta[b"stridecue.table"] == name.encode()


def test_duckdb_over_every_session(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "fed"
    assert main(["export", "--all", "--format", "parquet", str(root), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["monday", "stryd", "tuesday"]
    db = duckdb.connect()
    strides = f"read_parquet('{out}/*/strides.parquet')"
    reps = f"read_parquet('{out}/*/reps.parquet')"
    got = db.execute(
        f"SELECT session, athlete, count(*), avg(cadence_spm), sum(stride_length_m), "
        f"count(contact_time_s) FROM {strides} GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    want = []
    for name in ("monday", "stryd", "tuesday"):
        for a in load(root / name).athletes:
            n = len(a.strides)
            contact = 0 if a.rsc_only else n
            cad = sum(s.cadence_spm for s in a.strides) / n
            want.append((name, a.name, n, cad, a.distance_m, contact))
    want.sort()
    assert [g[:3] for g in got] == [w[:3] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[3] == pytest.approx(w[3]) and g[4] == pytest.approx(w[4])
        assert g[5] == w[5]  # an RSC pod's contact time is null, not 0
    (n_reps, mean_dist) = db.execute(f"SELECT count(*), avg(distance_m) FROM {reps}").fetchone()
    all_reps = [r for n in ("monday", "stryd", "tuesday") for a in load(root / n).athletes
                for r in a.reps]  # fmt: skip
    assert n_reps == len(all_reps)
    assert mean_dist == pytest.approx(sum(r.summary["distance_m"] for r in all_reps) / n_reps)
    # strides join their rep
    joined = db.execute(
        f"SELECT count(*) FROM {strides} s JOIN {reps} r USING (session, pod, rep)"
    ).fetchone()
    in_reps = db.execute(f"SELECT count(*) FROM {strides} WHERE rep IS NOT NULL").fetchone()
    assert joined == in_reps


def test_nothing_to_export_is_one_line(root: Path, tmp_path: Path, capsys) -> None:
    code = main(["export", str(root / "empty"), "--format", "parquet", "-o", str(tmp_path)])
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert "nothing to export" in err and len(err.splitlines()) == 1


def test_splits_carry_the_plan_and_reps_the_last_200_against_the_first(tmp_path: Path) -> None:
    from stridecue.analysis.plan import Plan
    from stridecue.analysis.targets import Targets
    from stridecue.export.parquet import rows

    path = write_session(tmp_path, athletes=1, reps=1, rep_m=400.0, label="plan")
    plan = Plan.parse("100:17,200:35,400:72")
    data = load(path, targets=Targets(plan=plan, rep_distance_m=400.0))
    got = rows(data)
    (rep,) = got["reps"]
    assert rep["plan"] == plan.spec
    summary = data.athletes[0].reps[0].summary
    for k, name in (("speed", "speed_mps"), ("stride_length", "stride_length_m")):
        assert rep[f"last_vs_first_{k}_pct"] == summary["last_vs_first_pct"][name]
    splits = got["splits"]
    assert [s["to_m"] for s in splits] == [100.0, 200.0, 300.0, 400.0]
    assert [s["vs_plan_s"] for s in splits] == summary["splits_vs_plan_s"]
    for s in splits:  # elapsed = the plan's time there + how far behind it
        assert s["plan_elapsed_s"] == pytest.approx(plan.plan_elapsed_s(s["to_m"]), abs=2e-3)
    # without a plan the plan columns are null, not zero
    plain = rows(load(path))
    assert plain["reps"][0]["plan"] is None
    assert all(s["vs_plan_s"] is None and s["plan_elapsed_s"] is None for s in plain["splits"])
