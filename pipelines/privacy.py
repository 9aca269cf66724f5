"""Privacy guard of the pipeline: refuse raw CPR numbers as person ids (rule in data_schema.ids)."""

from __future__ import annotations

from data_schema.ids import looks_like_cpr

__all__ = ["PrivacyError", "looks_like_cpr"]


class PrivacyError(RuntimeError):
    """Input refused for privacy reasons; the message names file, column and rows."""
