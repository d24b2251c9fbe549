"""The Kibana saved objects in deploy/kibana/ against Kibana's format and our index mappings.

There is no Kibana on the build machine, so the file cannot be imported here. These checks catch
what an import would trip over (a reference that points nowhere: "Could not find reference
panel_..."), and what would only show in use (a chart on a field the index does not have, a text
field where an aggregation needs a keyword, a range query on a keyword). Each check returns the
problems it found, so the last tests can show that a broken copy of the file is caught.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from pipeline.index.elasticsearch import MAPPINGS

KIBANA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kibana"
NDJSON = KIBANA_DIR / "yuqing-saved-objects.ndjson"
README = KIBANA_DIR / "README.md"

DATA_VIEW_ID = "yuqing-articles-dataview"
DASHBOARD_TITLE = "舆情监测总览"
FIELDS: dict[str, str] = {name: spec["type"] for name, spec in MAPPINGS["properties"].items()}
RECORDS = "___records___"  # Lens's pseudo-field for "count of documents"
GRID_COLUMNS = 48  # the dashboard grid's width

# Kibana's field type (and so a Lens column's dataType) for each Elasticsearch type we use.
KIBANA_TYPE = {
    "keyword": "string", "text": "string", "date": "date",
    "byte": "number", "short": "number", "integer": "number", "long": "number",
    "float": "number", "double": "number",
}
NUMERIC_OR_DATE = {"byte", "short", "integer", "long", "float", "double", "date"}
# The dashboard type's first model-version schema forbids unknown attributes (Kibana 9:
# dashboard_saved_object/schema/v1); later versions only add sections and access control.
DASHBOARD_ATTRIBUTES = {
    "title", "description", "kibanaSavedObjectMeta", "timeRestore", "timeFrom", "timeTo",
    "refreshInterval", "controlGroupInput", "panelsJSON", "optionsJSON", "hits", "version",
}


def _not_indexed(field: str) -> bool:
    return MAPPINGS["properties"][field].get("index") is False


def _aggregatable(field: str) -> bool:
    # text has no doc values; a terms or date_histogram on it fails in Elasticsearch
    return FIELDS[field] != "text"


def load(path: Path = NDJSON) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def objects() -> list[dict]:
    return load()


def by_type(objects: list[dict], type_: str) -> list[dict]:
    return [o for o in objects if o["type"] == type_]


# ---- checks: each returns a list of problems, empty when all is well ------------------------------


def check_envelope(objects: list[dict]) -> list[str]:
    """Every object has the fields an export has, and (type, id) is unique."""
    problems, seen = [], set()
    for n, o in enumerate(objects, 1):
        where = f"line {n} ({o.get('type')}/{o.get('id')})"
        for key, kind in (("id", str), ("type", str), ("attributes", dict), ("references", list)):
            if not isinstance(o.get(key), kind):
                problems.append(f"{where}: {key} missing or not a {kind.__name__}")
        for key in ("coreMigrationVersion", "typeMigrationVersion"):
            if not re.fullmatch(r"\d+\.\d+\.\d+", str(o.get(key, ""))):
                problems.append(f"{where}: {key} is not a version like 8.8.0")
        if not str(o.get("attributes", {}).get("title", "")).strip():
            problems.append(f"{where}: no title")
        if (o.get("type"), o.get("id")) in seen:
            problems.append(f"{where}: duplicate type and id")
        seen.add((o.get("type"), o.get("id")))
    return problems


def check_references(objects: list[dict]) -> list[str]:
    """Every reference names an object of that type and id in the file."""
    present = {(o["type"], o["id"]) for o in objects}
    problems = []
    for o in objects:
        names = [r.get("name") for r in o["references"]]
        if len(names) != len(set(names)):
            problems.append(f"{o['type']}/{o['id']}: reference names repeat")
        for r in o["references"]:
            if (r.get("type"), r.get("id")) not in present:
                problems.append(f"{o['type']}/{o['id']}: reference {r} points to no object in the file")
    return problems


def check_data_view(objects: list[dict]) -> list[str]:
    views = by_type(objects, "index-pattern")
    if [v["id"] for v in views] != [DATA_VIEW_ID]:
        return [f"expected exactly one data view {DATA_VIEW_ID!r}, found {[v['id'] for v in views]}"]
    a = views[0]["attributes"]
    problems = []
    if a.get("title") != "yuqing-articles*":
        problems.append(f"data view title {a.get('title')!r}; the index pattern is yuqing-articles*")
    time_field = a.get("timeFieldName")
    if FIELDS.get(time_field) != "date":
        problems.append(f"timeFieldName {time_field!r} is not a date field in MAPPINGS")
    attrs = json.loads(a.get("fieldAttrs", "{}"))
    for field, spec in attrs.items():
        if field not in FIELDS:
            problems.append(f"fieldAttrs names {field!r}, which is not in MAPPINGS")
        if not isinstance(spec.get("customLabel"), str) or not spec["customLabel"]:
            problems.append(f"fieldAttrs[{field!r}] has no customLabel")
    for field in json.loads(a.get("fieldFormatMap", "{}")):
        if field not in FIELDS:
            problems.append(f"fieldFormatMap names {field!r}, which is not in MAPPINGS")
    for key in ("fields", "runtimeFieldMap", "typeMeta"):
        if key in a:
            json.loads(a[key])  # stored as JSON strings; raises if not
    return problems


def kql_fields(query: str) -> list[tuple[str, str]]:
    """(field, operator) pairs in a KQL query: ``level >= 2 and department : "案管室"``.

    Quoted values are blanked first, so ``explanation : "规则:案件通报"`` yields only explanation.
    """
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', query)
    return re.findall(r"([A-Za-z_][\w.]*)\s*(>=|<=|>|<|:)", unquoted)


def check_kql(query: str, where: str) -> list[str]:
    problems = []
    for field, op in kql_fields(query):
        if field not in FIELDS:
            problems.append(f"{where}: KQL {query!r} names {field!r}, which is not in MAPPINGS")
        elif _not_indexed(field):
            problems.append(f"{where}: KQL {query!r} searches {field!r}, which is not indexed")
        elif op != ":" and FIELDS[field] not in NUMERIC_OR_DATE:
            problems.append(f"{where}: KQL {query!r} compares {field!r} ({FIELDS[field]}) with {op}")
    return problems


def check_lens(lens: dict) -> list[str]:
    where = f"lens/{lens['id']}"
    a = lens["attributes"]
    state = a["state"]
    if isinstance(state, str):  # some exports keep it as a string
        state = json.loads(state)
    problems = []
    if a.get("visualizationType") not in {"lnsXY", "lnsPie", "lnsDatatable", "lnsMetric"}:
        problems.append(f"{where}: unknown visualizationType {a.get('visualizationType')!r}")
    refs = {r["name"]: r for r in lens["references"]}
    layers = state["datasourceStates"]["formBased"]["layers"]
    if not layers:
        problems.append(f"{where}: no formBased layers")
    for layer_id, layer in layers.items():
        ref = refs.get(f"indexpattern-datasource-layer-{layer_id}")
        if not ref or ref["type"] != "index-pattern" or ref["id"] != DATA_VIEW_ID:
            problems.append(f"{where}: layer {layer_id} has no reference to the data view")
        columns = layer["columns"]
        if sorted(layer["columnOrder"]) != sorted(columns):
            problems.append(f"{where}: columnOrder {layer['columnOrder']} != columns {list(columns)}")
        for col_id, col in columns.items():
            problems += _check_column(where, col_id, col, columns)
    problems += _check_accessors(where, a.get("visualizationType"), state["visualization"], layers)
    query = state.get("query", {})
    if query.get("language") != "kuery":
        problems.append(f"{where}: query language {query.get('language')!r}, expected kuery")
    problems += check_kql(query.get("query", ""), where)
    return problems


def _check_column(where: str, col_id: str, col: dict, columns: dict) -> list[str]:
    problems = []
    op, field = col.get("operationType"), col.get("sourceField")
    if op == "count":
        if field != RECORDS:
            problems.append(f"{where}: count column {col_id} on {field!r}")
        return problems
    if field not in FIELDS:
        return [f"{where}: column {col_id} uses {field!r}, which is not in MAPPINGS"]
    if col.get("dataType") != KIBANA_TYPE[FIELDS[field]]:
        problems.append(
            f"{where}: column {col_id} on {field} ({FIELDS[field]}) has dataType "
            f"{col.get('dataType')!r}, Kibana will see {KIBANA_TYPE[FIELDS[field]]!r}"
        )
    if op in {"terms", "date_histogram"} and not _aggregatable(field):
        problems.append(f"{where}: {op} on {field}, a text field without doc values")
    if op == "date_histogram" and FIELDS[field] != "date":
        problems.append(f"{where}: date_histogram on {field} ({FIELDS[field]})")
    if op == "terms":
        order = col["params"]["orderBy"]
        if order.get("type") == "column" and order.get("columnId") not in columns:
            problems.append(f"{where}: column {col_id} is ordered by a missing column")
    if col.get("isBucketed") is not (op in {"terms", "date_histogram"}):
        problems.append(f"{where}: column {col_id} has the wrong isBucketed for {op}")
    return problems


def _check_accessors(where: str, vis_type: str, vis: dict, layers: dict) -> list[str]:
    problems = []
    for vlayer in vis.get("layers", []):
        layer_id = vlayer.get("layerId")
        if layer_id not in layers:
            problems.append(f"{where}: visualization layer {layer_id!r} has no datasource layer")
            continue
        columns = layers[layer_id]["columns"]
        if vis_type == "lnsXY":
            used = [vlayer.get("xAccessor"), *vlayer.get("accessors", [])]
            used += [vlayer["splitAccessor"]] if "splitAccessor" in vlayer else []
        else:
            used = [*vlayer.get("primaryGroups", []), *vlayer.get("metrics", [])]
        for accessor in used:
            if accessor not in columns:
                problems.append(f"{where}: accessor {accessor!r} is not a column of {layer_id}")
        if not used or len(used) != len(columns):
            problems.append(f"{where}: layer {layer_id} shows {used}, columns are {list(columns)}")
    return problems


def check_search(search: dict) -> list[str]:
    where = f"search/{search['id']}"
    a = search["attributes"]
    problems = []
    for column in a.get("columns", []):
        if column not in FIELDS:
            problems.append(f"{where}: column {column!r} is not in MAPPINGS")
    for field, _direction in a.get("sort", []):
        if field not in FIELDS or FIELDS[field] == "text":
            problems.append(f"{where}: sorts on {field!r}, which cannot be sorted")
    source = json.loads(a["kibanaSavedObjectMeta"]["searchSourceJSON"])
    ref_name = source.get("indexRefName")
    ref = next((r for r in search["references"] if r["name"] == ref_name), None)
    if not ref or ref["id"] != DATA_VIEW_ID:
        problems.append(f"{where}: indexRefName {ref_name!r} has no reference to the data view")
    problems += check_kql(source.get("query", {}).get("query", ""), where)
    return problems


def dashboard_panels(dashboard: dict) -> list[dict]:
    return json.loads(dashboard["attributes"]["panelsJSON"])


def check_dashboard(dashboard: dict, objects: list[dict]) -> list[str]:
    where = f"dashboard/{dashboard['id']}"
    a = dashboard["attributes"]
    panels = dashboard_panels(dashboard)
    json.loads(a["optionsJSON"])
    json.loads(a["kibanaSavedObjectMeta"]["searchSourceJSON"])
    refs = {r["name"]: r for r in dashboard["references"]}
    problems, cells = [], {}
    for key in sorted(set(a) - DASHBOARD_ATTRIBUTES):
        problems.append(f"{where}: attribute {key!r} is not in the dashboard schema")
    for p in panels:
        index, grid = p.get("panelIndex"), p.get("gridData", {})
        if grid.get("i") != index:
            problems.append(f"{where}: panel {index!r} has gridData.i {grid.get('i')!r}")
        if not all(isinstance(grid.get(k), int) and grid[k] >= 0 for k in "xywh"):
            problems.append(f"{where}: panel {index!r} has gridData {grid}")
            continue
        if grid["x"] + grid["w"] > GRID_COLUMNS:
            problems.append(f"{where}: panel {index!r} is wider than the grid")
        area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])}
        if clash := sorted({cells[cell] for cell in area & cells.keys()}):
            problems.append(f"{where}: panel {index!r} overlaps {clash}")
        cells.update(dict.fromkeys(area, index))
        if not isinstance(p.get("embeddableConfig"), dict):
            problems.append(f"{where}: panel {index!r} has no embeddableConfig")
        # Kibana 9 exports and looks up "<panelIndex>:<panelRefName>" (it falls back to a bare
        # "<panelRefName>" for old dashboards; we keep to the current form)
        ref = refs.get(f"{index}:{p.get('panelRefName')}")
        if not p.get("panelRefName") or ref is None:
            problems.append(f"{where}: panel {index!r} panelRefName {p.get('panelRefName')!r} "
                            f"has no reference {index}:{p.get('panelRefName')}")
        elif ref["type"] != p.get("type"):
            problems.append(
                f"{where}: panel {index!r} is a {p.get('type')} but refers to a {ref['type']}")
    indexes = [p.get("panelIndex") for p in panels]
    if len(indexes) != len(set(indexes)):
        problems.append(f"{where}: panelIndex repeats: {indexes}")
    shown = {(r["type"], r["id"]) for r in dashboard["references"]}
    for o in objects:
        if o["type"] in {"lens", "search", "visualization"} and (o["type"], o["id"]) not in shown:
            problems.append(f"{where}: {o['type']}/{o['id']} is in the file but not on the dashboard")
    return problems


# ---- the file as shipped ---------------------------------------------------------------------------


def test_every_line_is_a_saved_object(objects):
    assert len(objects) == len(NDJSON.read_text(encoding="utf-8").strip().splitlines())
    assert check_envelope(objects) == []


def test_the_expected_objects_are_there(objects):
    types = sorted(o["type"] for o in objects)
    assert types == sorted(["index-pattern", "lens", "lens", "lens", "lens", "search", "dashboard"])
    assert [d["attributes"]["title"] for d in by_type(objects, "dashboard")] == [DASHBOARD_TITLE]


def test_references_resolve(objects):
    assert check_references(objects) == []


def test_data_view(objects):
    assert check_data_view(objects) == []
    attrs = json.loads(by_type(objects, "index-pattern")[0]["attributes"]["fieldAttrs"])
    labels = {field: spec["customLabel"] for field, spec in attrs.items()}
    for field, label in {"title": "标题", "source_id": "来源", "level": "级别",
                         "department": "办理部门", "relevance": "相关度", "sensitivity": "敏感度"}.items():
        assert labels.get(field) == label


@pytest.mark.parametrize("lens_id", [
    "yuqing-lens-volume-by-level", "yuqing-lens-top-sources",
    "yuqing-lens-top-explanation", "yuqing-lens-departments",
])
def test_lens(objects, lens_id):
    (lens,) = [o for o in by_type(objects, "lens") if o["id"] == lens_id]
    assert check_lens(lens) == []


def _columns(lens: dict) -> list[dict]:
    layers = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    return [c for layer in layers.values() for c in layer["columns"].values()]


def test_charts_show_what_the_issue_asks_for(objects):
    lenses = {o["id"]: o for o in by_type(objects, "lens")}
    volume = lenses["yuqing-lens-volume-by-level"]
    ops = {(c["operationType"], c["sourceField"]) for c in _columns(volume)}
    assert {("date_histogram", "time"), ("terms", "level"), ("count", RECORDS)} == ops
    (layer,) = volume["attributes"]["state"]["visualization"]["layers"]
    assert layer["seriesType"] == "bar_stacked" and "splitAccessor" in layer
    def ops_of(lens_id):
        return {(c["operationType"], c["sourceField"]) for c in _columns(lenses[lens_id])}

    assert ("terms", "source_id") in ops_of("yuqing-lens-top-sources")
    assert ("terms", "explanation") in ops_of("yuqing-lens-top-explanation")
    assert ("terms", "department") in ops_of("yuqing-lens-departments")
    departments = lenses["yuqing-lens-departments"]
    assert kql_fields(departments["attributes"]["state"]["query"]["query"]) == [("level", ">=")]
    assert "level >= 1" in departments["attributes"]["state"]["query"]["query"]


def test_level_is_a_number_and_department_a_keyword(objects):
    # level is a byte (0..3): Lens must treat it as a number; department is a keyword (string)
    assert FIELDS["level"] == "byte" and FIELDS["department"] == "keyword"
    kinds = {(c["sourceField"], c["dataType"])
             for lens in by_type(objects, "lens") for c in _columns(lens)}
    assert ("level", "number") in kinds and ("department", "string") in kinds
    assert not {("level", "string"), ("department", "number")} & kinds


def test_saved_search_of_latest_level_2_items(objects):
    (search,) = by_type(objects, "search")
    assert check_search(search) == []
    a = search["attributes"]
    assert a["columns"] == ["time", "level", "department", "source_id", "title"]
    assert a["sort"] == [["time", "desc"]]
    query = json.loads(a["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]
    assert query == {"query": "level >= 2", "language": "kuery"}


def test_dashboard_panels_and_references(objects):
    (dashboard,) = by_type(objects, "dashboard")
    assert check_dashboard(dashboard, objects) == []
    assert len(dashboard_panels(dashboard)) == 5


def readme_kql() -> list[str]:
    """The KQL queries in the README's table: first column, in backticks, under the KQL heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## 常用 KQL 查询", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)`", section, flags=re.MULTILINE)


def test_readme_queries_use_real_indexed_fields():
    queries = readme_kql()
    assert len(queries) >= 8
    problems = [p for q in queries for p in check_kql(q, "README")]
    assert problems == []
    fields = {f for q in queries for f, _ in kql_fields(q)}
    assert {"level", "department", "title_s", "matched_rules", "source_id", "relevance"} <= fields


# ---- the checks themselves catch broken copies -----------------------------------------------------


def _one(objects: list[dict], type_: str, id_: str | None = None) -> dict:
    return next(o for o in objects if o["type"] == type_ and (id_ is None or o["id"] == id_))


def test_checks_catch_a_dangling_reference(objects):
    broken = copy.deepcopy(objects)
    _one(broken, "lens")["references"][0]["id"] = "no-such-data-view"
    assert check_references(broken)


def test_checks_catch_a_panel_without_its_reference(objects):
    broken = copy.deepcopy(objects)
    dashboard = _one(broken, "dashboard")
    # what Kibana 9 reports as 'Could not find reference "panel_..."' when the dashboard opens
    dashboard["references"] = [
        dict(r, name=r["name"].split(":", 1)[0] + ":panel_other") for r in dashboard["references"]]
    assert len(check_dashboard(dashboard, broken)) == 5


def test_checks_catch_an_unknown_field_and_a_text_aggregation(objects):
    broken = copy.deepcopy(objects)
    lens = _one(broken, "lens", "yuqing-lens-top-sources")
    column = next(c for c in _columns(lens) if c["operationType"] == "terms")
    column["sourceField"] = "source"
    assert any("not in MAPPINGS" in p for p in check_lens(lens))
    column["sourceField"] = "title_s"
    assert any("text field" in p for p in check_lens(lens))


def test_checks_catch_level_as_a_string(objects):
    broken = copy.deepcopy(objects)
    lens = _one(broken, "lens", "yuqing-lens-volume-by-level")
    next(c for c in _columns(lens) if c["sourceField"] == "level")["dataType"] = "string"
    assert any("dataType" in p for p in check_lens(lens))


def test_checks_catch_bad_kql():
    assert check_kql('department >= "案管室"', "t")  # range on a keyword
    assert check_kql('title : "八项规定"', "t")  # title is stored, not indexed
    assert check_kql("levle >= 2", "t")  # typo
    assert check_kql('level >= 2 and department : "案管室"', "t") == []
    assert kql_fields('explanation : "a:b" and level > 1') == [("explanation", ":"), ("level", ">")]


def test_checks_catch_a_wrong_time_field(objects):
    broken = copy.deepcopy(objects)
    _one(broken, "index-pattern")["attributes"]["timeFieldName"] = "source_id"
    assert check_data_view(broken)


def test_checks_catch_overlapping_panels(objects):
    broken = copy.deepcopy(objects)
    dashboard = _one(broken, "dashboard")
    panels = dashboard_panels(dashboard)
    panels[1]["gridData"].update(x=0, y=0)
    dashboard["attributes"]["panelsJSON"] = json.dumps(panels)
    assert any("overlap" in p for p in check_dashboard(dashboard, broken))


def test_checks_catch_an_unknown_dashboard_attribute(objects):
    broken = copy.deepcopy(objects)
    dashboard = _one(broken, "dashboard")
    dashboard["attributes"]["panels"] = []
    assert any("not in the dashboard schema" in p for p in check_dashboard(dashboard, broken))
