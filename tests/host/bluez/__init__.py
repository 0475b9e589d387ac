"""A stand-in BlueZ on a private dbus-daemon, so the real bleak can be tested without a radio."""
