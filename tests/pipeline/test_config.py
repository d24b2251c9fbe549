"""yuqing.yaml: defaults, precedence, and mistakes reported as FILE:LINE with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.urloptions import IndexOptions, KafkaOptions, index_hosts, index_options, kafka_options
from yuqing.cli.main import main


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "yuqing.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_are_the_embedded_setup_under_the_data_dir(tmp_path):
    settings = load_settings(write(tmp_path, ""), env={})
    data = tmp_path / "data"
    assert settings.paths.data_dir == data
    assert settings.bus.url == f"sqlite:///{data}/bus.sqlite3"
    assert settings.index.url == f"sqlite:///{data}/index.sqlite3"
    assert settings.store.url == f"sqlite:///{data}/yuqing.sqlite3"


def test_environment_overrides_yaml_and_command_line_overrides_both(tmp_path):
    path = write(tmp_path, "bus:\n  url: kafka://yaml:9092\nindex:\n  url: http://yaml:9200\n")
    env = {"YUQING_BUS_URL": "kafka://env:9092", "YUQING_INDEX_PASSWORD": "s3cret"}
    settings = load_settings(path, env=env, overrides={("index", "url"): "http://cli:9200"})
    assert settings.bus.url == "kafka://env:9092"
    assert settings.index.url == "http://cli:9200"
    assert settings.index.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_every_mistake_is_reported_with_its_line(tmp_path):
    path = write(tmp_path, "bus:\n  url: redis://x\n  partitons: 3\nindex:\n  timeout_s: -1\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    problems = caught.value.problems
    assert problems[0].startswith(f"{path}:2:8: bus.url: 'redis://x' has scheme 'redis'")
    assert "use one of sqlite://, kafka://" in problems[0]
    assert problems[1].startswith(f"{path}:3:3: bus.partitons: unknown key; did you mean 'partitions'?")
    assert problems[2].startswith(f"{path}:5:14: index.timeout_s:")
    assert len(problems) == 3


def test_broken_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "bus:\n  url: [kafka://x\n")
    with pytest.raises(ConfigError, match=rf"^{path}:3:1: not valid YAML"):
        load_settings(path, env={})


def test_a_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="^environment YUQING_INDEX_URL: index.url: 'es:9200' is not a URL"):
        load_settings(write(tmp_path, ""), env={"YUQING_INDEX_URL": "es:9200"})


def test_validate_command_exits_2_and_prints_file_line(tmp_path, capsys):
    path = write(tmp_path, "index:\n  nmae: x\n")
    assert main(["config", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:2:3: index.nmae: unknown key; did you mean 'name'?")


def test_validate_command_accepts_a_good_file(tmp_path, capsys):
    path = write(tmp_path, "bus:\n  url: kafka://127.0.0.1:9092\n")
    assert main(["config", "validate", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_a_missing_file_is_a_configuration_error(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "nope.yaml"), "config", "show"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_value_of_the_wrong_shape_says_what_is_allowed(tmp_path):
    path = write(tmp_path, "index:\n  name: Yuqing Articles\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert caught.value.problems == [
        f"{path}:2:9: index.name: 'Yuqing Articles' is not allowed; use lower-case letters, "
        "digits, '.', '_' and '-', starting with a letter or digit"
    ]


def test_the_bus_url_sets_how_much_a_fetch_waits_for():
    options = kafka_options("kafka://k1:9092?fetch_min_bytes=1048576&fetch_max_wait_ms=500")
    assert (options.fetch_min_bytes, options.fetch_max_wait_ms) == (1048576, 500)
    assert options.replication_factor == 1


def test_a_cluster_is_one_url_with_its_nodes_and_replication(tmp_path):
    path = write(tmp_path, "bus:\n  url: kafka://k1:9092,k2:9092,k3:9092?replication_factor=3&"
                           "min_insync_replicas=2\nindex:\n  url: http://e1:9200,e2:9200?replicas=1\n")
    settings = load_settings(path, env={})
    assert kafka_options(settings.bus.url) == KafkaOptions(replication_factor=3, min_insync_replicas=2)
    assert index_options(settings.index.url) == IndexOptions(replicas=1)
    assert index_hosts(settings.index.url) == ["http://e1:9200", "http://e2:9200"]
    # without options: the single node's replication, fetches of 128 KiB or 100 ms
    assert kafka_options("kafka://k1:9092") == KafkaOptions(replication_factor=1, min_insync_replicas=1,
                                                           fetch_min_bytes=131072, fetch_max_wait_ms=100)
    assert index_options("http://e1:9200") == IndexOptions(replicas=0)


@pytest.mark.parametrize("section, url, expected", [
    ("bus", "kafka://k1:9092,k2:9092?replication_factor=2&min_insync_replicas=3",
     "min_insync_replicas=3 is more than replication_factor=2"),
    ("bus", "kafka://k1:9092?replicas=3", "unknown option 'replicas'"),
    ("bus", "kafka://k1:9092?replication_factor=three", "replication_factor='three' is not a whole number"),
    ("bus", "kafka://k1:9092?replication_factor=0", "replication_factor='0' is not a whole number from 1 to 100"),
    ("bus", "kafka://k1:9092?fetch_max_wait_ms=60000", "fetch_max_wait_ms='60000' is not a whole number from 0 to 5000"),
    ("bus", "kafka://k1:9092?fetch_min_bytes=0", "fetch_min_bytes='0' is not a whole number from 1 to"),
    ("index", "http://e1:9200?replicas=-1", "replicas='-1' is not a whole number"),
    ("index", "http://e1:9200?replication_factor=3", "unknown option 'replication_factor'"),
    ("bus", "sqlite:///bus.sqlite3?replicas=1", "takes no options"),
])
def test_a_wrong_cluster_option_names_the_setting_and_its_line(tmp_path, section, url, expected):
    path = write(tmp_path, f"paths:\n  data_dir: data\n{section}:\n  url: '{url}'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    message = str(caught.value)
    assert f"{path}:4" in message and f"{section}.url" in message and expected in message
