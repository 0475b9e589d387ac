"""Parquet tables of sessions, for an analyst (or a federation) querying many at once.

A session is written as five files in one folder named after it::

    OUT/<session>/strides.parquet   one row per stride
    OUT/<session>/reps.parquet      one row per rep (its summary)
    OUT/<session>/splits.parquet    one row per 100 m split of a rep
    OUT/<session>/alerts.parquet    one row per form alert
    OUT/<session>/cues.parquet      one row per cue sent to the pod

Every file carries, in its Parquet key-value metadata, ``stridecue.schema_version``
(:data:`SCHEMA_VERSION`), ``stridecue.table`` and ``stridecue.host_version``; the
columns are in :data:`SCHEMAS` and docs/data.md. A folder of such session folders
reads in DuckDB (``read_parquet('OUT/*/strides.parquet')``) and Spark
(``spark.read.parquet('OUT/*/strides.parquet')``) as one table.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from stridecue import __version__
from stridecue.sessiondata import AthleteData, SessionData

#: bump when a column changes meaning or type, or goes away (adding columns: no bump)
SCHEMA_VERSION = 1
TABLES = ("strides", "reps", "splits", "alerts", "cues")

_KEYS = [
    pa.field("session", pa.string(), nullable=False),
    pa.field("athlete", pa.string(), nullable=False),
    pa.field("pod", pa.string(), nullable=False),
]

SCHEMAS: dict[str, pa.Schema] = {
    "strides": pa.schema([
        *_KEYS,
        pa.field("source", pa.string()),  # "stridecue" (the pod's strides) or "rsc" (rebuilt)
        pa.field("rep", pa.int32()),  # 1-based; null: not in a rep (warm-up, recovery)
        pa.field("seq", pa.int64()),
        pa.field("t_s", pa.float64()),  # session time of the contact that ends the stride
        pa.field("time", pa.timestamp("ms", tz="UTC")),
        pa.field("stride_time_s", pa.float64()),
        pa.field("stride_length_m", pa.float64()),  # the pod's, before any calibration
        pa.field("contact_time_s", pa.float64()),  # null: not measured (an RSC pod)
        pa.field("cadence_spm", pa.float64()),  # steps per minute
        pa.field("speed_mps", pa.float64()),
        pa.field("flags", pa.int32()),
    ]),
    "reps": pa.schema([
        *_KEYS,
        pa.field("rep", pa.int32()),
        pa.field("start_s", pa.float64()),
        pa.field("end_s", pa.float64()),
        pa.field("duration_s", pa.float64()),
        pa.field("distance_m", pa.float64()),  # the rep's one distance (scaled)
        pa.field("distance_scale", pa.float64()),
        pa.field("strides", pa.int32()),
        pa.field("mean_cadence_spm", pa.float64()),
        pa.field("mean_stride_length_m", pa.float64()),
        pa.field("mean_contact_time_s", pa.float64()),
        pa.field("alerts", pa.int32()),
        # strides whose length the pod could not trust: in the distance, not judged
        pa.field("doubtful_strides", pa.int32()),
        # strides whose accelerometer clipped: judged, but they may read short
        pa.field("clipped_strides", pa.int32()),
        pa.field("form_held_m", pa.float64()),
        pa.field("fatigue_index", pa.float64()),
        pa.field("plan", pa.string()),  # the coach's plan (its text); null: none
        # the last 200 m against the first (a rep under 100 m: null), % change
        pa.field("last_vs_first_cadence_pct", pa.float64()),
        pa.field("last_vs_first_stride_length_pct", pa.float64()),
        pa.field("last_vs_first_speed_pct", pa.float64()),
        pa.field("last_vs_first_contact_time_pct", pa.float64()),
    ]),
    "splits": pa.schema([
        *_KEYS,
        pa.field("rep", pa.int32()),
        pa.field("split", pa.int32()),  # 1-based within the rep
        pa.field("to_m", pa.float64()),  # the split ends this far into the rep
        pa.field("split_s", pa.float64()),
        pa.field("elapsed_s", pa.float64()),
        pa.field("plan_elapsed_s", pa.float64()),  # the plan's time at to_m; null: no plan
        pa.field("vs_plan_s", pa.float64()),  # + = behind the plan
    ]),
    "alerts": pa.schema([
        *_KEYS,
        pa.field("rep", pa.int32()),
        pa.field("t_s", pa.float64()),
        pa.field("kind", pa.string()),  # rhythm_loss | stride_shortening
        pa.field("detector", pa.string()),
        pa.field("deviation_pct", pa.float64()),
        pa.field("distance_m", pa.float64()),  # into the rep
    ]),
    "cues": pa.schema([
        *_KEYS,
        pa.field("rep", pa.int32()),
        pa.field("t_s", pa.float64()),
        pa.field("pattern", pa.string()),
    ]),
}  # fmt: skip


_HALF_KEYS = {"cadence": "cadence_spm", "stride_length": "stride_length_m",
              "speed": "speed_mps", "contact_time": "contact_time_s"}  # fmt: skip


def _rep_of(a: AthleteData, t_s: float) -> int | None:
    for r in a.reps:
        if r.start_s <= t_s <= r.end_s:
            return r.index + 1
    return None


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


def _int(x: Any) -> int | None:
    return int(x) if isinstance(x, int) and not isinstance(x, bool) else None


def rows(data: SessionData) -> dict[str, list[dict[str, Any]]]:
    """The five tables of a session as lists of rows."""
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    start_ms = data.start_ns / 1e6
    for a in data.athletes:
        key = {"session": data.name, "athlete": a.name, "pod": a.pod}
        for s in a.strides:
            out["strides"].append({
                **key, "source": "rsc" if a.rsc_only else "stridecue",
                "rep": _rep_of(a, s.t_s), "seq": s.seq, "t_s": s.t_s,
                "time": round(start_ms + 1000.0 * s.t_s),
                "stride_time_s": s.stride_time_s, "stride_length_m": s.stride_length_m,
                "contact_time_s": s.contact_time_s if s.contact_time_s > 0 else None,
                "cadence_spm": s.cadence_spm, "speed_mps": s.speed_mps, "flags": s.flags,
            })  # fmt: skip
        for r in a.reps:
            m = r.summary
            change = m.get("last_vs_first_pct") or {}
            behind = m.get("splits_vs_plan_s") or []
            out["reps"].append({
                **key, "rep": r.index + 1, "start_s": r.start_s, "end_s": r.end_s,
                "duration_s": _num(m.get("duration_s")), "distance_m": _num(m.get("distance_m")),
                "distance_scale": _num(m.get("distance_scale")), "strides": _int(m.get("strides")),
                "mean_cadence_spm": _num(m.get("mean_cadence_spm")),
                "mean_stride_length_m": _num(m.get("mean_stride_length_m")),
                "mean_contact_time_s": _num(m.get("mean_contact_time_s")),
                "alerts": _int(m.get("alerts")),
                "doubtful_strides": _int(m.get("doubtful_strides")),
                "clipped_strides": _int(m.get("clipped_strides")),
                "form_held_m": _num(m.get("form_held_m")),
                "fatigue_index": _num(m.get("fatigue_index")),
                "plan": m.get("plan") if isinstance(m.get("plan"), str) else None,
                **{f"last_vs_first_{k}_pct": _num(change.get(v)) for k, v in _HALF_KEYS.items()},
            })  # fmt: skip
            elapsed = 0.0
            split_m = data.settings.split_m
            for k, split in enumerate(r.splits_s, 1):
                elapsed += split
                vs = _num(behind[k - 1]) if k <= len(behind) else None
                out["splits"].append({
                    **key, "rep": r.index + 1, "split": k, "to_m": k * split_m,
                    "split_s": split, "elapsed_s": round(elapsed, 3),
                    "plan_elapsed_s": None if vs is None else round(elapsed - vs, 3),
                    "vs_plan_s": vs,
                })  # fmt: skip
        for e in a.alerts:
            out["alerts"].append({
                **key, "rep": _rep_of(a, e.t_s), "t_s": e.t_s, "kind": str(e.kind),
                "detector": str(e.detail.get("detector", "")) or None,
                "deviation_pct": _num(e.detail.get("deviation_pct")),
                "distance_m": _num(e.detail.get("distance_m")),
            })  # fmt: skip
        for t, pattern in a.cues:
            out["cues"].append({**key, "rep": _rep_of(a, t), "t_s": t, "pattern": pattern})
    return out


def table(name: str, records: list[dict[str, Any]]) -> pa.Table:
    """One table with its schema and the StrideCue key-value metadata."""
    schema = SCHEMAS[name].with_metadata({
        "stridecue.schema_version": str(SCHEMA_VERSION),
        "stridecue.table": name,
        "stridecue.host_version": __version__,
    })  # fmt: skip
    return pa.Table.from_pylist(records, schema=schema)


def write_session(data: SessionData, out: Path) -> Path:
    """Write the session's five tables into ``out/<session name>/``; returns that folder."""
    folder = out / data.name
    folder.mkdir(parents=True, exist_ok=True)
    for name, records in rows(data).items():
        path = folder / f"{name}.parquet"
        tmp = folder / f".{name}.parquet.tmp"
        pq.write_table(table(name, records), tmp)
        tmp.replace(path)  # a reader never sees half a file
    return folder
