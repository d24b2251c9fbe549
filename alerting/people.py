"""The people who answer for the work (责任人): who they are, and who is on duty (值班) when.

``alerting.yaml``::

    people:
      - name: 王敏
        office: 宣传部
        title: 副主任
        phone: 0797-5620000        # the 联系人 line of a 舆情专报
        head: true                 # the office's head: escalations go to the head and the 组长
        account: wangmin           # the console account, when they have one
        channels: [wangmin-mail]   # how a reminder reaches this person (notify.channels names)
    duty:                          # 值班, by Beijing dates, both included
      - {office: 宣传部, person: 王敏, from: 2026-12-01, to: 2026-12-07}

Every deadline and task has a 责任人: the one named (a consultation's task), else whoever is on
duty for its office at that moment, else the office's head. The owner of a deadline is kept as it
changes (:class:`~alerting.store.models.DeadlineOwner`): a missed deadline belongs to the person
who owned it when it fell due, which is what the 迟报漏报 report names.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from pipeline.records import SHANGHAI

__all__ = ["Person", "Duty", "Roster"]


class Person(BaseModel):
    """One person of an office; ``head`` marks the office's head, ``channels`` reach them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80)
    office: str
    title: str = ""
    head: bool = False
    account: str = ""
    #: the telephone a 专报's 联系人 line gives
    phone: str = Field(default="", max_length=40)
    channels: list[str] = Field(default_factory=list)


class Duty(BaseModel):
    """``person`` answers for ``office`` from ``from`` to ``to`` (Beijing dates, both included)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    office: str
    person: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")


class Roster:
    """Who answers for an office at a moment: the duty roster first, then the office's head."""

    def __init__(self, people: list[Person], duty: list[Duty]):
        self.people = {p.name: p for p in people}
        self.duty = list(duty)

    def person(self, name: str) -> Person | None:
        return self.people.get(name)

    def head(self, office: str) -> Person | None:
        return next((p for p in self.people.values() if p.office == office and p.head), None)

    def on_duty(self, office: str, at: datetime) -> Person | None:
        """The person on duty for ``office`` on ``at``'s Beijing date, else its head, else None.
        Of two rosters covering the day, the one that started later wins (a swap written later)."""
        day = at.astimezone(SHANGHAI).date()
        covering = [d for d in self.duty if d.office == office and d.start <= day <= d.end]
        if covering:
            return self.people.get(max(covering, key=lambda d: d.start).person)
        return self.head(office)

    def responsible(self, office: str, at: datetime, named: str = "") -> str:
        """The 责任人's name: ``named`` when given, else the one on duty, else "" (nobody known)."""
        if named:
            return named
        person = self.on_duty(office, at)
        return person.name if person is not None else ""

    def channels_of(self, name: str) -> list[str]:
        person = self.people.get(name)
        return list(person.channels) if person is not None else []
