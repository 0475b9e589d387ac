"""Subcommands of ``stridecue``: one module each, each exposing ``register(subparsers)``."""
