"""A snapshot's arrays as files beside the database, memory-mapped by every reader.

Building a snapshot from SQLite means reading every chunk and tokenizing BM25 postings again: tens of seconds
at corpus scale, and all of it private memory in each process. Saved once per (generation, version), the
arrays load in well under a second as read-only memory maps: pages come from the OS file cache, shared by all
processes, and a reload after a new generation maps new files instead of holding two private copies.
Vectors are mapped copy-on-write, so vectors computed later are added in place (those pages become private).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from indexer.stores.bm25 import Bm25Index
from indexer.stores.folded_texts import FoldedTexts
from indexer.stores.snapshot import Categorical, GenerationInfo, Snapshot
from indexer.stores.vector_index import VectorIndex

SNAPSHOT_DIR = "snapshots"
# 2: title, issuer and publication date for field search; 3: texts mapped as UTF-8; 4: sign bits centred
_FORMAT = 4
_FIELDS = ("year", "province", "county", "township", "category", "title", "issuer", "published")


def snapshot_path(directory: Path, generation: str, version: int, epoch: int) -> Path:
    return directory / SNAPSHOT_DIR / f"{generation}-v{version}-e{epoch}"


def _latest_saved(directory: Path, generation: str, version: int, epoch: int) -> Path | None:
    """The saved snapshot of (generation, version) with the most vectors, at most ``epoch``."""
    best: tuple[int, Path] | None = None
    for path in (directory / SNAPSHOT_DIR).glob(f"{generation}-v{version}-e*"):
        saved = path.name.rsplit("-e", 1)[1]
        if saved.isdigit() and int(saved) <= epoch and (best is None or int(saved) > best[0]):
            best = (int(saved), path)
    return None if best is None else best[1]


def _format_of(path: Path) -> int | None:
    try:
        return json.loads((path / "meta.json").read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        return None


def _write_lines(path: Path, values) -> None:
    path.write_text("\n".join(values), encoding="utf-8", errors="surrogatepass")


def _read_lines(path: Path, n: int) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="surrogatepass")
    lines = text.split("\n") if n else []
    if len(lines) != n:
        raise ValueError(f"{path}: {len(lines)} lines, expected {n}")
    return lines


def save_snapshot(directory: Path, snapshot: Snapshot) -> Path:
    """Write ``snapshot`` under ``directory/snapshots/`` (atomically: a temporary folder renamed)."""
    info = snapshot.info
    target = snapshot_path(directory, info.generation, info.version, info.vector_epoch)
    if target.exists():
        if _format_of(target) == _FORMAT:
            return target
        shutil.rmtree(target, ignore_errors=True)  # written by an older version: readers cannot map it
    temporary = directory / SNAPSHOT_DIR / f".tmp-{uuid.uuid4().hex}"
    temporary.mkdir(parents=True)
    try:
        arrays = {
            "rowids": snapshot.rowids,
            "years": snapshot.years,
            "report_codes": snapshot.reports.codes,
            "text_ends": snapshot.texts.ends,
            "bm25_offsets": snapshot.bm25.offsets,
            "bm25_docs": snapshot.bm25.docs,
            "bm25_weights": snapshot.bm25.weights,
            "vectors": snapshot.vectors.matrix,
            "bits": snapshot.vectors.bits,
            "present": snapshot.vectors.present
            if snapshot.vectors.present is not None
            else np.ones(len(snapshot), bool),
            **{f"codes_{name}": snapshot.fields[name].codes for name in _FIELDS},
        }
        if snapshot.vectors.center is not None:
            arrays["center"] = snapshot.vectors.center
        for name, array in arrays.items():
            np.save(temporary / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        _write_lines(temporary / "ids.txt", snapshot.ids)
        _write_lines(temporary / "vocab.txt", snapshot.bm25.vocab)  # dict order is term-id order
        snapshot.texts.save(temporary / "folded.txt")
        meta = {
            "format": _FORMAT,
            "info": vars(info),
            "n": len(snapshot),
            "vocab": len(snapshot.bm25.vocab),
            "values": {name: snapshot.fields[name].values for name in _FIELDS},
            "reports": snapshot.reports.values,
        }
        (temporary / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        try:
            os.replace(temporary, target)
        except OSError:
            if not target.exists():
                raise
            shutil.rmtree(temporary, ignore_errors=True)  # another process saved the same one first
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return target


def load_saved_snapshot(directory: Path, generation: str, version: int, epoch: int) -> Snapshot | None:
    """The saved snapshot of (generation, version), memory-mapped, with the vectors of ``epoch`` or fewer
    (the caller adds the newer ones); None when there is none (or it cannot be read)."""
    path = _latest_saved(directory, generation, version, epoch)
    if path is None:
        return None
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            return None
        n = meta["n"]

        def array(name: str, mode: str = "r") -> np.ndarray:
            return np.load(path / f"{name}.npy", mmap_mode=mode, allow_pickle=False)

        info = GenerationInfo(**meta["info"])
        vocab_terms = _read_lines(path / "vocab.txt", meta["vocab"])
        bm25 = Bm25Index(
            vocab=dict(zip(vocab_terms, range(len(vocab_terms)), strict=True)),
            offsets=array("bm25_offsets"),
            docs=array("bm25_docs"),
            weights=array("bm25_weights"),
            n_docs=n,
        )
        center = np.load(path / "center.npy") if (path / "center.npy").exists() else None
        vectors = VectorIndex(array("vectors", "c"), np.array(array("present")), array("bits", "c"), center)
        fields = {
            name: Categorical(values=tuple(meta["values"][name]), codes=array(f"codes_{name}"))
            for name in _FIELDS
        }
        texts = FoldedTexts.from_file(path / "folded.txt", array("text_ends"))
        return Snapshot(
            info,
            tuple(_read_lines(path / "ids.txt", n)),
            array("years"),
            fields,
            Categorical(values=tuple(meta["reports"]), codes=array("report_codes")),
            texts,
            bm25,
            vectors,
            np.array(array("rowids")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_other_snapshots(directory: Path, keep: Path) -> None:
    """Delete saved snapshots other than ``keep`` (processes that still map one keep their mapping)."""
    root = directory / SNAPSHOT_DIR
    for path in root.iterdir() if root.exists() else ():
        if path != keep and not path.name.startswith(".tmp-"):
            shutil.rmtree(path, ignore_errors=True)
