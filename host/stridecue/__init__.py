"""StrideCue host package: receive foot-pod strides, detect form breakdown, cue the athlete."""

__version__ = "0.1.0"
