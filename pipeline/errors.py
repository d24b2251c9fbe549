"""Every error yuqing raises on purpose, in one tree.

    YuqingError                      base: anything yuqing reports to a user
    ├── ConfigError                  a configuration file is wrong: FILE:LINE: what and what is allowed
    ├── RecordError                  bytes on a topic are not a record we can read (names topic/offset)
    ├── BackendUnavailable           Kafka, Elasticsearch ... cannot be reached; says how to start it
    └── Signal                       control flow of a stage over one item, never shown as a crash
        ├── Drop                     expected and counted (duplicate, out of scope); reason is fixed-set
        ├── Retry                    transient; try again after ``after`` seconds
        └── Quarantine               poison item: goes to the dead-letter topic with the reason

A stage raises a Signal about one item; the loop that drives the stage decides what to do with it.
Everything else that escapes a stage is a bug and is quarantined with its traceback, so one bad item
never stops the stream.
"""

from __future__ import annotations


class YuqingError(Exception):
    """Base of the errors yuqing reports to a person; ``str()`` is the message to show them."""


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

    Raised at start-up so a misconfigured deployment fails loudly instead of running without it.
    """


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
