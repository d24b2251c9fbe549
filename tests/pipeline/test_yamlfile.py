"""Positions of mistakes in lists of items, as in sources.yaml."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.yamlfile import parse_yaml, validation_problems


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    interval_s: int = 60


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item]


def problems(raw: str) -> list[str]:
    data, marks = parse_yaml(raw, "s.yaml")
    with pytest.raises(ValidationError) as caught:
        Doc.model_validate(data)
    return validation_problems(caught.value, marks, Doc)


def test_mistakes_inside_list_items_name_the_item_and_line():
    raw = "items:\n  - id: a\n  - id: b\n    intreval_s: 5\n  - interval_s: x\n"
    assert problems(raw) == [
        "s.yaml:4:5: items[1].intreval_s: unknown key; did you mean 'interval_s'? Allowed here: id, interval_s",
        "s.yaml:5:5: items[2].id: required but missing",
        "s.yaml:5:17: items[2].interval_s: Input should be a valid integer, unable to parse string as an integer",
    ]
