"""The web console (控制台): the alert queue, the workflow, tasks, search, trends, sources, briefings.

FastAPI serving Jinja2 pages and a JSON API under ``/api/``; see :mod:`yuqing.web.app` for the
map, ``docs/console.md`` for the roles and pages, ``yuqing console`` to run it and
``yuqing users`` for the accounts.
"""

from yuqing.web.app import create_app
from yuqing.web.console import ConsoleOptions

__all__ = ["create_app", "ConsoleOptions"]
