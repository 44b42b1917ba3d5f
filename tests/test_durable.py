"""Specification of socialscore.store.durable: folders and files complete or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialscore.store import durable


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_folder_appears_whole_with_every_file_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[str] = []
    real = durable.hash_and_fsync

    def spy(path: Path) -> tuple[int, str]:
        flushed.append(path.name)
        return real(path)

    monkeypatch.setattr(durable, "hash_and_fsync", spy)
    final = tmp_path / "out"
    with durable.atomic_folder(final) as tmp:
        (tmp / "a.html").write_text("a")
        (tmp / "b.parquet").write_bytes(b"b")
        assert not final.exists()  # nothing visible while it is written
    assert _names(final) == {"a.html", "b.parquet"}
    assert sorted(flushed) == ["a.html", "b.parquet"]
    assert _names(tmp_path) == {"out"}  # no temporary folder left


def test_a_failure_inside_leaves_the_old_folder_untouched(tmp_path: Path) -> None:
    final = tmp_path / "report"
    final.mkdir()
    (final / "old.html").write_text("old")
    with pytest.raises(RuntimeError), durable.atomic_folder(final, replace=True) as tmp:
        (tmp / "new.html").write_text("half")
        raise RuntimeError("crash while writing")
    assert _names(final) == {"old.html"}
    assert _names(tmp_path) == {"report"}


def test_replacing_swaps_the_whole_folder(tmp_path: Path) -> None:
    final = tmp_path / "report"
    final.mkdir()
    (final / "old.html").write_text("old")
    with durable.atomic_folder(final, replace=True) as tmp:
        (tmp / "new.html").write_text("new")
    assert _names(final) == {"new.html"}
    assert _names(tmp_path) == {"report"}


def test_an_existing_folder_is_refused_unless_replacing(tmp_path: Path) -> None:
    final = tmp_path / "run"
    final.mkdir()
    (final / "kept").write_text("kept")
    with pytest.raises(FileExistsError), durable.atomic_folder(final):
        raise AssertionError("the block must not run")
    assert _names(final) == {"kept"}


def test_a_temporary_folder_left_by_a_crash_is_cleared(tmp_path: Path) -> None:
    stale = tmp_path / ".out.tmp"
    stale.mkdir()
    (stale / "half.html").write_text("half")
    with durable.atomic_folder(tmp_path / "out") as tmp:
        (tmp / "whole.html").write_text("whole")
    assert _names(tmp_path / "out") == {"whole.html"}
    assert not stale.exists()


def test_a_replaced_file_is_old_or_new_never_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")
    size, digest = durable.replace_file(target, b"new!")
    assert target.read_bytes() == b"new!" and size == 4 and digest == durable.sha256(target)

    def fail(*_: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(durable.os, "replace", fail)
    with pytest.raises(OSError, match="disk gone"):
        durable.replace_file(target, b"newer")
    assert target.read_bytes() == b"new!"
