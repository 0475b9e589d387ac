"""Real-time running-form analysis: one causal, streaming analyzer per athlete.

Data flows stride by stride: :mod:`validate` rejects impossible records, :mod:`reps`
tells running from recovery, :mod:`baseline` learns the athlete's own rhythm and stride
length for the rep, :mod:`detectors` decide when either has changed, :mod:`splits`
measures distance, and :mod:`analyzer` ties them together and emits :class:`Event`s.
:mod:`cues` turns events into vibration cues under a policy.
"""

from stridecue.analysis.analyzer import Analyzer
from stridecue.analysis.cues import CueDecision, CuePolicy, CueSettings
from stridecue.analysis.settings import AnalyzerSettings
from stridecue.analysis.targets import Targets
from stridecue.analysis.types import Event, EventKind, StrideIn

__all__ = [
    "Analyzer",
    "AnalyzerSettings",
    "CueDecision",
    "CuePolicy",
    "CueSettings",
    "Event",
    "EventKind",
    "StrideIn",
    "Targets",
]
