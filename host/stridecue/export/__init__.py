"""Exports of a recorded session: per-stride CSV and a FIT activity per athlete."""

from stridecue.export.fit_file import encode_fit, write_fit
from stridecue.export.strides_csv import COLUMNS, write_csv

__all__ = ["COLUMNS", "encode_fit", "write_csv", "write_fit"]
