"""Snapshots (issue 19): monthly WARC files with an index, shared by threads and processes."""

from __future__ import annotations

import multiprocessing
import threading

from crawlers.snapshots import SnapshotStore


def write_pages(root: str, tag: str, n: int) -> None:
    store = SnapshotStore(root)
    for i in range(n):
        store.put(f"<html>{tag} page {i}</html>".encode(), f"https://{tag}.gov.cn/{i}")
    store.close()


def test_threads_and_processes_writing_one_store_lose_no_page(tmp_path):
    root = str(tmp_path / "snapshots")
    other = multiprocessing.get_context("spawn").Process(target=write_pages, args=(root, "b", 200))
    other.start()
    threads = [threading.Thread(target=write_pages, args=(root, f"a{t}", 100)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.join(60)
    assert other.exitcode == 0
    store = SnapshotStore(root)
    assert store.usage().files == 500
    for tag, n in (("a0", 100), ("a1", 100), ("a2", 100), ("b", 200)):
        for i in range(n):
            body = f"<html>{tag} page {i}</html>".encode()
            assert store.get(store.put(body)) == body
    assert store.usage().files == 500  # the same bytes again: nothing new kept
    store.close()
