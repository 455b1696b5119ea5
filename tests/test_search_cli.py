"""The search command line on a real index of the seeds: stdin handling and output hygiene."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def _search(index: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "search_app", "search", *args, "--index-dir", str(index)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _line(proc: subprocess.Popen, bound: float = 300) -> bytes:
    """The next output line; the bound only keeps a broken build from hanging the suite."""
    ready, _, _ = select.select([proc.stdout], [], [], bound)
    assert ready, f"no answer within {bound} s"
    return proc.stdout.readline()


def test_each_stdin_query_is_answered_as_it_arrives(seeds_index: Path) -> None:
    proc = _search(seeds_index, "--json", "--top", "1")
    try:
        proc.stdin.write("枫桥经验\n".encode())
        proc.stdin.flush()  # stdin stays open: the answer must come before end of input
        first = json.loads(_line(proc))
        assert first["query"] == "枫桥经验" and first["hits"]
        proc.stdin.write("法律顾问\n".encode())
        proc.stdin.flush()
        assert json.loads(_line(proc))["query"] == "法律顾问"
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_invalid_stdin_bytes_are_replaced_not_echoed(seeds_index: Path) -> None:
    proc = _search(seeds_index, "--json", "--top", "1")
    out, err = proc.communicate(b"\xff\xfe\xc0\xaf\xe4\xb8 \xe6\xb3\x95\xe6\xb2\xbb\n", timeout=300)
    assert proc.returncode == 0, err
    (line,) = out.splitlines()
    line.decode("utf-8")  # strictly valid
    assert json.loads(line)["query"].endswith("\ufffd 法治")


def test_control_characters_in_a_query_are_not_printed_raw(seeds_index: Path) -> None:
    proc = _search(seeds_index, "--top", "1")
    out, err = proc.communicate("法治\x1b[2J\n".encode(), timeout=300)
    assert proc.returncode == 0, err
    assert b"\x1b" not in out and b"\\x1b[2J" in out


def test_search_of_a_mistyped_index_dir_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-index"
    proc = _search(missing, "法治")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2
    assert f"no index in {missing}".encode() in err
    assert not missing.exists()
