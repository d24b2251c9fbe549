"""What an operator may write in sources.yaml (issue 16, item 8): control characters and white
space in ``url``/``urls``, header names that are not tokens and header values that break a line
are refused when the file is validated, as ``FILE:LINE:COL`` problems, so ``yuqing sources
test`` never reaches a traceback. Loopback only (the module runs in a network namespace):
``sources test`` fetches when validation lets a source through."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from crawlers.sources import load_sources
from pipeline.errors import ConfigError

pytestmark = pytest.mark.loopback_only

HEAD = "sources:\n  - id: probe\n    name: 探测\n    type: rss\n    internal: true\n    robots: false\n"


@pytest.mark.parametrize("line,problem", [
    ('    url: "http://127.0.0.1:9/a\\x01b"\n', "contains a control character or white space"),
    ('    url: "http://127.0.0.1:9/a\\r\\nHost: evil.example"\n', "contains a control character"),
    ('    url: "http://127.0.0.1:9/a b"\n', "write a space as %20"),
    ('    url: "http://127.0.0.1:9/\\u0085x"\n', "contains a control character"),
    ('    urls: ["http://127.0.0.1:9/ok", "http://127.0.0.1:9/\\tx"]\n', "contains a control character"),
    ('    url: "http://127.0.0.1:port/"\n', "has an invalid port"),
])
def test_urls_with_control_characters_are_refused_where_they_were_written(tmp_path, line, problem):
    path = tmp_path / "sources.yaml"
    path.write_text(HEAD + line, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    (found,) = caught.value.problems
    assert re.match(rf"{re.escape(str(path))}:7:\d+: sources\[0\]\.urls?(\[1\])?: ", found), found
    assert problem in found


@pytest.mark.parametrize("headers,problem", [
    ('{Referer: "http://a.example.cn/\\r\\nX-Injected: 1"}', "contains a control character"),
    ('{Cookie: "a=1\\u0000"}', "contains a control character"),
    ('{"X Bad": "v"}', "header name 'X Bad' is not allowed"),
    ('{"X-Bad:": "v"}', "is not allowed"),
])
def test_headers_that_would_break_a_request_are_refused(tmp_path, headers, problem):
    path = tmp_path / "sources.yaml"
    path.write_text(HEAD + '    url: "http://127.0.0.1:9/feed"\n' + f"    headers: {headers}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    (found,) = caught.value.problems
    assert found.startswith(f"{path}:8:14: sources[0].headers: ") and problem in found


def test_sources_test_reports_the_problem_instead_of_a_traceback(tmp_path, pytestconfig):
    path = tmp_path / "sources.yaml"
    path.write_text(HEAD + '    url: "http://127.0.0.1:9/a\\x01b"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(pytestconfig.rootpath)}
    done = subprocess.run([sys.executable, "-m", "yuqing.cli.main", "sources", "test", "probe",
                           "--sources", str(path)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"{path}:7:10: sources[0].url:" in done.stderr
