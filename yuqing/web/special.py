"""The 舆情专报 on the console: made from the alert page (the 协调小组办公室's button), kept in
``ConsoleOptions.special_reports`` (DATA_DIR/special-reports, where ``yuqing report special``
writes them too) and served to whoever may see the alert.

Making one goes through :meth:`alerting.service.AlertService.special_report`, so the console is
held to the same rules as the command line (who may, 首报 before 续报, 结报 after 办结) and every
document is in the audit log.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from alerting.access import Actor
from alerting.errors import NotFound
from alerting.special import Written
from crawlers import sources
from yuqing.web.console import ConsoleOptions

__all__ = ["folder", "make", "file_of"]

#: ``舆情专报-<alert id>-首报.docx`` ... as written by alerting.special
_NAME = re.compile(r"^舆情专报-(?P<alert>[A-Za-z0-9]+)-(首报|续报\d+|结报)\.(docx|pdf)$")


def folder(options: ConsoleOptions) -> Path:
    """Where the console keeps 专报: the option, else a folder under the system's temporary directory."""
    return options.special_reports or Path(tempfile.gettempdir()) / "yuqing-special-reports"


def make(service, options: ConsoleOptions, actor: Actor, alert_id: str, kind: str, next_steps: list[str]) -> Written:
    return service.special_report(alert_id, actor, kind, folder(options),
                                  sources.source_names(options.sources), next_steps or None)


def file_of(service, options: ConsoleOptions, actor: Actor, alert_id: str, name: str) -> Path:
    """The file ``name`` of ``alert_id``'s 专报, when ``actor`` may see the alert; NotFound otherwise."""
    service.show(alert_id, actor)  # NotFound for an alert the actor may not see
    match = _NAME.match(name)
    path = folder(options) / name
    if match is None or match.group("alert") != alert_id or not path.is_file():
        raise NotFound(f"no 专报 {name!r} of {alert_id}; make one on the alert's page")
    return path
