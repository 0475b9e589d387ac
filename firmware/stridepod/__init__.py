# StrideCue pod firmware package. Every module here runs unmodified on
# MicroPython (the pod, the unix port in tests) and on CPython (the host's
# simulator and evaluation tools load these same files).
VERSION = (0, 1, 0)
