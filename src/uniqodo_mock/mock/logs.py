"""The server log says what went wrong with the server, not with the client: connexion logs
every form body it refuses at ERROR, although the request is answered 400 in the envelope and
recorded in the journal. Those records are demoted to DEBUG (a logging filter, the logging
module's own way of rewriting records), so ``--log-level info`` shows none of them and
``debug`` shows them all."""

from __future__ import annotations

import logging

__all__ = ["demote_refused_requests"]

# connexion's form body validator: one ERROR per refused body ("Validation error: ...").
_FORM_VALIDATOR = "connexion.validators.form_data"


class _RefusedRequest(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and getattr(record, "validator", None) == "body":
            record.levelno = logging.DEBUG
            record.levelname = logging.getLevelName(logging.DEBUG)
            # Below the logger's own level now: dropped unless debugging.
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_FILTER = _RefusedRequest()


def demote_refused_requests() -> None:
    """Install the filter (once, whatever the number of apps built)."""
    logger = logging.getLogger(_FORM_VALIDATOR)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
