"""Errors of the alert workflow: a branch of the one tree drawn in :mod:`pipeline.errors`.

    YuqingError
    └── AlertingError             a request the workflow refuses; ``str()`` says why and what to do
        ├── NotFound              no alert, task or deadline with that id
        ├── IllegalTransition     the action is not allowed in the alert's current state
        ├── UnknownOffice         an office name that the configuration does not list
        │   └── UnknownUnit       a unit that the directory (报送单位、协同单位) does not list
        ├── Forbidden             the actor's office may not see or change this alert
        └── LoginRequired         nobody is logged in (the console's session, yuqing login)

The command line prints the message and exits with code 2; the web console answers 404/409/422/403.
"""

from __future__ import annotations

from pipeline.errors import YuqingError

__all__ = ["AlertingError", "NotFound", "IllegalTransition", "UnknownOffice", "UnknownUnit", "Forbidden",
           "LoginRequired"]


class AlertingError(YuqingError):
    """The workflow refused a request; the message names the thing and the way forward."""


class NotFound(AlertingError):
    pass


class IllegalTransition(AlertingError):
    pass


class UnknownOffice(AlertingError):
    pass


class UnknownUnit(UnknownOffice):
    """A report or a partner named outside ``directory`` in alerting.yaml; the message lists the units."""


class Forbidden(AlertingError):
    pass


class LoginRequired(AlertingError):
    """No live login: the console's pages redirect to the login form, its API answers 401, and the
    command line says to run ``yuqing login``."""
