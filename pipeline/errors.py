"""Every error yuqing raises on purpose, in one tree, and the signals its stages raise about one item.

Every error a person can see derives from :class:`YuqingError`, which carries the exit code the
command line ends with; the subclasses live next to the code that raises them::

    YuqingError                      exit 2   anything yuqing reports to a person; str() is the message
    ├── UsageError                   exit 2   a command-line value that cannot be used (--shard 3/2)
    ├── ConfigError                  exit 2   a configuration file or value: FILE:LINE:COL, what is allowed
    ├── SelectorError                exit 2   crawlers.extract.selectors: a CSS/XPath that does not compile
    ├── RecordError                  exit 2   bytes that are not a record we can read (names topic/offset or file:line)
    ├── BackendUnavailable           exit 3   Kafka, Elasticsearch, the database ... cannot be reached; says how to start it
    ├── FetchError                   exit 2   crawlers.base: one URL of one source could not be fetched
    │   ├── UnsafeURLError                      refused before any byte was sent
    │   └── BlockedError                        an anti-bot challenge, reported and never solved
    ├── DeliveryError                exit 2   alerting.notify.base: a channel could not deliver a message
    ├── FontMissingError             exit 2   alerting.briefing.fonts: no CJK font, so no briefing PDF
    └── AlertingError                exit 2   alerting.errors: the workflow refused a request
        ├── NotFound, IllegalTransition, UnknownOffice, Forbidden, LoginRequired
        ├── UserError                           alerting.accounts: an account request that cannot be done
        └── LoginFailed, LoginThrottled, CsrfError     yuqing.web.auth: the console's door (and yuqing login's)

    Signal                                    control flow of a stage over one item, never shown as a crash
    ├── Drop                                  expected and counted (duplicate, out of scope); reason is fixed-set
    ├── Retry                                 transient; try again after ``after`` seconds
    └── Quarantine                            a poison item: goes to the dead-letter topic with the reason

A stage raises a Signal about one item; the loop that drives the stage decides what to do with it.
:func:`pipeline.flow.handle_batch` keeps this promise: a Drop is counted, and a Quarantine, a
RecordError or *any other exception* raised over one item (a bug, a ``RecursionError`` from a
hostile record) sends that item to ``deadletter`` with the reason while the batch goes on. Only
BackendUnavailable stops a batch, uncommitted, so that it is retried once the backend is back.
"""

from __future__ import annotations

__all__ = ["YuqingError", "UsageError", "ConfigError", "RecordError", "BackendUnavailable",
           "Signal", "Drop", "Retry", "Quarantine"]


class YuqingError(Exception):
    """Base of the errors yuqing reports to a person; ``str()`` is the message to show them and
    ``exit_code`` the command line's exit code (2: the request or the settings must change)."""

    exit_code: int = 2


class UsageError(YuqingError):
    """A value given on the command line (or in a form) that cannot be used; says what can."""


class ConfigError(YuqingError):
    """A configuration file (or value) is invalid.

    ``problems`` holds one ``FILE:LINE: message`` string per mistake so a user can fix them all in
    one go; the command line prints them and exits with code 2.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class RecordError(YuqingError):
    """Bytes that should hold a record could not be decoded.

    ``where`` names the place (``articles.raw[2]@1041`` for topic, partition and offset, or
    ``file.jsonl:12``), so an operator can find the message and replay or discard it.
    """

    def __init__(self, where: str, reason: str):
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class BackendUnavailable(YuqingError):
    """An external system (bus, index, store) cannot be reached or refused to work.

    Raised at start-up so a misconfigured deployment fails loudly instead of running without it;
    at run time a step that meets it stops its batch uncommitted and backs off.
    """

    exit_code = 3


class Signal(Exception):
    """Base of the per-item control-flow signals; not errors of the program."""


class Drop(Signal):
    """The item is expected to be dropped (a duplicate, out of scope). ``reason`` is a fixed word."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class Retry(Signal):
    """A transient failure: the same item may succeed after ``after`` seconds."""

    def __init__(self, reason: str, after: float = 1.0):
        self.reason = reason
        self.after = after
        super().__init__(f"{reason} (retry in {after:g}s)")


class Quarantine(Signal):
    """The item can never be processed: send it to the dead-letter topic with ``reason``."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)
