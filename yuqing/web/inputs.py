"""Reading values out of requests: one way for every page and the API, so that no malformed
value reaches the code underneath as an exception it does not expect (a 500 instead of a 4xx).

* Whole numbers (:func:`whole_number`): ASCII digits only, bounded. ``str.isdigit`` accepts "²"
  and "١٢", which ``int`` then refuses, and an unbounded number overflows the databases' integers.
* Row ids in paths (:data:`RowId`): bounded to the databases' integer columns.
* Dates: parsing one can raise OverflowError as well as ValueError (9999-12-31 plus a day, or
  0001-01-01 moved to UTC); catch :data:`BAD_DATE`.
* Free text for the index (:func:`search_text`): without NUL, which ends an SQLite FTS5 string.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

__all__ = ["BadInput", "whole_number", "query_number", "RowId", "MAX_ROW_ID", "BAD_DATE", "search_text"]

#: the largest id of an INTEGER column on PostgreSQL (SQLite's are wider)
MAX_ROW_ID = 2**31 - 1

#: a task's (or any row's) id in a path: a 422 outside the columns' range, never an overflow
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]

#: what parsing or shifting a date written by a user may raise
BAD_DATE = (ValueError, OverflowError)


def whole_number(text: str | None, low: int = 0, high: int = MAX_ROW_ID) -> int | None:
    """The whole number ``text`` writes in ASCII digits, if it lies in ``low..high``; else None."""
    text = (text or "").strip()
    if not text or len(text) > 18 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if low <= number <= high else None


class BadInput(ValueError):
    """A value of a request that is not what its field takes; the message names the field. The
    console answers it 422."""


def query_number(params, key: str, low: int, high: int, default: int) -> int:
    """The whole number of query parameter ``key`` (``default`` when absent or empty);
    BadInput when it is something else."""
    text = params.get(key) or ""
    if not text:
        return default
    number = whole_number(text, low, high)
    if number is None:
        raise BadInput(f"{key}={text[:40]!r}: a whole number from {low} to {high}")
    return number


def search_text(text: str) -> str:
    """``text`` as a search term or filter: NUL removed (it cannot be part of a query string)."""
    return text.replace("\x00", "")
