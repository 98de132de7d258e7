"""Errors raised by the nlu package.

    NLUError
    ├── TrainingDataError      malformed or missing Rasa-format training data
    ├── ModelCacheError        the embedded model cache cannot be read or written
    └── BackendError           a parser backend could not produce a result
        ├── RasaUnavailableError   Rasa server down, timed out, or answered 5xx
        ├── RasaAuthError          Rasa refused the token (401/403)
        └── RasaResponseError      Rasa answered something that is not a parse result

Parsing itself never raises for odd *text* (empty, huge, emoji, control characters): that
always yields a valid result. Only configuration and infrastructure problems raise.
"""

from __future__ import annotations


class NLUError(Exception):
    """Base class for every error raised by `nlu`."""


class TrainingDataError(NLUError):
    """The training data could not be read or is not valid Rasa 3.x NLU data."""


class ModelCacheError(NLUError):
    """The cached embedded model could not be read or written."""


class BackendError(NLUError):
    """A backend could not produce a parse result."""


class RasaUnavailableError(BackendError):
    """The Rasa server is unreachable, timed out, or failed with a server error."""


class RasaAuthError(BackendError):
    """The Rasa server rejected the configured token."""


class RasaResponseError(BackendError):
    """The Rasa server answered with something that is not a `/model/parse` result."""
