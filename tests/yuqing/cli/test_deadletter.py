"""``yuqing deadletter replay``: each letter back where it came from, once, and never lost."""

from __future__ import annotations

import json

from pipeline.bus import DEADLETTER, RAW, SCORED, Message
from pipeline.bus.local import LocalBus
from pipeline.flow import StepCount, dead_letter
from pipeline.testing import drain
from yuqing.cli.main import main


def letters_of(tmp_path, *failures: tuple[str, Message]) -> None:
    bus = LocalBus(tmp_path / "bus.sqlite3")
    for stage, message in failures:
        dead_letter(bus, stage, message, f"{stage} failed", StepCount())
    bus.flush()
    bus.close()


def replay(tmp_path, capsys, *args: str) -> str:
    assert main(["--data-dir", str(tmp_path), "deadletter", "replay", *args]) == 0
    return capsys.readouterr().out


def topic(tmp_path, name: str) -> list[bytes]:
    bus = LocalBus(tmp_path / "bus.sqlite3")
    try:
        return [m.value for m in drain(bus.consumer(name, "check"), 10, timeout_s=0.5)]
    finally:
        bus.close()


def test_replaying_one_stage_keeps_the_other_stages_letters_for_their_own_replay(tmp_path, capsys):
    letters_of(tmp_path, ("classify", Message(RAW, 0, 7, b"k1", b'{"n": 1}', 0)),
               ("index", Message(SCORED, 1, 3, b"k2", b'{"n": 2}', 0)))
    assert "replayed 1 " in replay(tmp_path, capsys, "--stage", "index")
    assert topic(tmp_path, SCORED) == [b'{"n": 2}'] and topic(tmp_path, RAW) == []
    assert "replayed 1 " in replay(tmp_path, capsys, "--stage", "classify")
    assert topic(tmp_path, RAW) == [b'{"n": 1}']
    assert "replayed 0 " in replay(tmp_path, capsys)      # each was replayed once


def test_two_letters_of_one_record_replay_it_once(tmp_path, capsys):
    # a batch retried after an outage dead-letters its bad record a second time
    bad = Message(SCORED, 0, 5, b"k", b'{"n": 5}', 0)
    letters_of(tmp_path, ("index", bad), ("index", bad))
    out = replay(tmp_path, capsys)
    assert "replayed 1 " in out and "1 repeated letters of one record" in out
    assert topic(tmp_path, SCORED) == [b'{"n": 5}']


def test_letters_count_as_replayed_only_once_their_records_are_written(tmp_path, capsys, monkeypatch):
    from pipeline.bus import local

    letters_of(tmp_path, ("classify", Message(RAW, 0, 1, b"k", b'{"n": 1}', 0)))
    calls: list[str] = []
    flush, commit = LocalBus.flush, local.LocalConsumer.commit
    monkeypatch.setattr(LocalBus, "flush", lambda self: (calls.append("flush"), flush(self))[1])
    monkeypatch.setattr(local.LocalConsumer, "commit", lambda self: (calls.append("commit"), commit(self))[1])
    replay(tmp_path, capsys)
    assert calls.index("flush") < calls.index("commit")   # a crash in between replays again, loses nothing
    assert json.loads(topic(tmp_path, RAW)[0]) == {"n": 1}
