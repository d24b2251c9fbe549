"""The directory of units the office reports to and works with (报送单位、协同单位), from ``alerting.yaml``.

The rules: a 重大 item is reported within one hour to 市纪委监委宣传部 and to the county's party
committee (同级党委, 县委), and 县委宣传部 (同级党委宣传部) is notified; an item that may affect the
overall situation goes within two hours *level by level* (逐级) up to 中央纪委国家监委宣传部. The
office works with 上级纪委, 公安, 检察院, 法院, 律协 (and 网信办) on handling. ``alerting.yaml``::

    directory:
      - {name: 市纪委监委宣传部, kind: upward, order: 1, channel: "机要/电话 0797-0000000"}
      - {name: 省纪委监委宣传部, kind: upward, order: 2}
      - {name: 中央纪委国家监委宣传部, kind: upward, order: 3}
      - {name: 县委, kind: party}
      - {name: 县委宣传部, kind: propaganda}
      - {name: 公安, kind: partner, contact: 县公安局指挥中心, channel: "电话 110"}

``kind``: ``upward`` (the chain of propaganda departments above, climbed in ``order``),
``party`` (同级党委: reported to), ``propaganda`` (同级党委宣传部: notified, 通报), ``partner``
(协同单位: worked with on handling, never reported to). Only the units listed here can be
reported to (``alerts report --to``) or named as partners (``alerts handle --partner``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Unit", "default_directory", "check_directory", "Directory"]


class Unit(BaseModel):
    """One unit: its name, its kind (see the module docstring), its rung on the upward chain
    (``order``, 1 being the first above the county; only for ``upward``), how it is reached
    (``channel``) and whom to ask for (``contact``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=30)
    kind: Literal["upward", "party", "propaganda", "partner"]
    order: int = Field(default=0, ge=0, le=9)
    channel: str = Field(default="", max_length=200)
    contact: str = Field(default="", max_length=80)


def default_directory() -> list[Unit]:
    """The units the rules name (contact channels are local and left empty)."""
    return [
        Unit(name="市纪委监委宣传部", kind="upward", order=1),
        Unit(name="省纪委监委宣传部", kind="upward", order=2),
        Unit(name="中央纪委国家监委宣传部", kind="upward", order=3),
        Unit(name="县委", kind="party"),
        Unit(name="县委宣传部", kind="propaganda"),
        Unit(name="上级纪委", kind="partner"),
        Unit(name="公安", kind="partner"),
        Unit(name="检察院", kind="partner"),
        Unit(name="法院", kind="partner"),
        Unit(name="律师协会", kind="partner"),
        Unit(name="网信办", kind="partner"),
    ]


def check_directory(units: list[Unit]) -> None:
    """ValueError naming the entry when names repeat, an upward unit has no rung, or two share one."""
    names = [u.name for u in units]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"directory: unit names must be unique; listed twice: {', '.join(twice)}")
    rungs: dict[int, str] = {}
    for i, unit in enumerate(units):
        if unit.kind == "upward":
            if unit.order < 1:
                raise ValueError(f"directory[{i}] ({unit.name}): an upward unit needs its rung, order: 1 for "
                                 "the first level above (市), 2 the next (省) ...")
            if unit.order in rungs:
                raise ValueError(f"directory[{i}] ({unit.name}): order {unit.order} is already "
                                 f"{rungs[unit.order]}'s; each level of the chain has one unit")
            rungs[unit.order] = unit.name
        elif unit.order:
            raise ValueError(f"directory[{i}] ({unit.name}): order is for upward units only (kind: upward)")


class Directory:
    """Look-ups over the configured units; every refusal lists the units that would do."""

    def __init__(self, units: list[Unit]):
        self.units = {u.name: u for u in units}

    def unit(self, name: str) -> Unit | None:
        return self.units.get(name)

    @property
    def recipients(self) -> list[Unit]:
        """Units that can be reported to: the upward chain in order, then the county's own."""
        chain = sorted((u for u in self.units.values() if u.kind == "upward"), key=lambda u: u.order)
        return chain + [u for u in self.units.values() if u.kind in ("party", "propaganda")]

    @property
    def partners(self) -> list[Unit]:
        return [u for u in self.units.values() if u.kind == "partner"]

    def below(self, unit: Unit) -> list[Unit]:
        """The rungs of the upward chain under ``unit``, lowest first (empty for any other kind)."""
        if unit.kind != "upward":
            return []
        return [u for u in self.recipients if u.kind == "upward" and u.order < unit.order]
