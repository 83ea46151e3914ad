"""Errors the service raises for callers to show (besides ``InvalidInput`` from validation)."""

from __future__ import annotations


class NotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass
