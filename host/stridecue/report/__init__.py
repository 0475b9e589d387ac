"""Session reports: per athlete, cadence and stride length over the session with reps and
alerts, a per-rep table, 100 m splits, fatigue index, and relay exchanges (HTML + PNG)."""

from stridecue.report.html import write
from stridecue.sessiondata import AthleteData, Rep, SessionData, Stride, load

__all__ = ["AthleteData", "Rep", "SessionData", "Stride", "load", "write"]
