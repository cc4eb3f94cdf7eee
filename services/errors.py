"""The failures the CLI reports as one line: each names its input and what is wrong."""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import ValidationError

from services.db.engine import DatabaseError
from services.locks import ReviewLocked
from services.protocols import ProtocolError


class SweepError(RuntimeError):
    """A sweep could not complete; the message is the one-line reason."""


class SweepOverflow(SweepError):
    """A single day of the search holds more records than PubMed lets one search retrieve
    (``esearch_limit``). Days are the finest split of a search window, so another attempt
    meets the same cap: the task is not retried, and the reason says what to do."""


class InputError(ValueError):
    """A user-supplied file or argument is unusable; the message names it."""


def _expected() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [
        ProtocolError,
        DatabaseError,
        SweepError,
        ReviewLocked,
        InputError,
        LookupError,
        OSError,
        ValidationError,
        sa.exc.OperationalError,
    ]
    try:
        from services.pubmed.client import EutilsError
    except ImportError:
        pass
    else:
        errors.append(EutilsError)
    return tuple(errors)


EXPECTED_ERRORS = _expected()
