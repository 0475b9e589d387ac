"""Exports of a recorded session: per-stride CSV and a FIT activity per athlete."""

from stridecue.export.checked import ExportError, exportable
from stridecue.export.fit_file import encode_fit, write_fit
from stridecue.export.strides_csv import COLUMNS, write_csv

__all__ = ["COLUMNS", "ExportError", "encode_fit", "exportable", "write_csv", "write_fit"]
