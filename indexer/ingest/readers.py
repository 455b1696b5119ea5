"""Read report files (.txt/.md, .docx, .html, .pdf) into raw text with the detected encoding.

Plain text is decoded without trusting any declaration: BOMs first, then strict UTF-8, then UTF-16 without
BOM, then GB18030 against Big5 (cp950). Big5 bytes often decode as GB18030 without error (and short GB text
as Big5), so both are decoded strictly and the one whose characters look like real Chinese text wins.

``read_document`` raises ``ReadError`` (path and reason) for anything it cannot turn into text;
``iter_documents`` yields that error instead, so one bad file never stops a batch.
"""

from __future__ import annotations

import codecs
import html.parser
import io
import logging
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from indexer.ingest.file_access import (
    ListedFile,
    ReadError,
    SkippedFile,
    list_sources,
    read_regular,
    source_name,
)

__all__ = [
    "SUPPORTED_SUFFIXES",
    "RawDocument",
    "ReadError",
    "SkippedFile",
    "decode_text",
    "iter_documents",
    "list_entries",
    "list_files",
    "read_document",
]

MAX_BYTES = 200 * 1024 * 1024  # larger files are not reports; refuse instead of exhausting memory

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".docx", ".pdf"}
# Document formats a report may come in that are not read: named in the summary, not passed over.
UNREAD_DOCUMENT_SUFFIXES = frozenset(
    {".doc", ".wps", ".rtf", ".odt", ".ofd", ".xls", ".xlsx", ".et", ".ppt", ".pptx", ".mht", ".mhtml"}
)


@dataclass(frozen=True)
class RawDocument:
    text: str
    source: str
    encoding: str  # e.g. "utf-8", "utf-16", "gb18030", "big5", "docx", "html:utf-8", "pdf"


# --------------------------------------------------------------------------- text decoding


class _NotText(ValueError):
    """Raised by ``decode_text`` with the reason the bytes are not usable text."""


_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
# Legacy Chinese encodings tried in order; a tie in plausibility goes to the first.
_CJK_CANDIDATES: tuple[tuple[str, str], ...] = (("gb18030", "gb18030"), ("big5", "cp950"))
_BINARY_MAGIC: tuple[bytes, ...] = (
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"%PDF",
    b"PK\x03\x04",  # zip, docx, xlsx
    b"\xd0\xcf\x11\xe0",  # OLE: .doc, .xls
    b"\x7fELF",
    b"\x1f\x8b",  # gzip
)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
_MAX_CONTROL_SHARE = 0.01
_MAX_LOSSY_SHARE = 0.001


def _strict_decode(data: bytes, codec: str) -> str | None:
    """Decode strictly, tolerating only a multi-byte character cut off at the very end of the file."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as err:
        if err.start < len(data) - 3:
            return None
    for cut in (1, 2, 3):
        try:
            return data[:-cut].decode(codec)
        except UnicodeDecodeError:
            continue
    return None


@lru_cache(maxsize=65536)
def _char_weight(ch: str) -> float:
    """How typical ``ch`` is of real Chinese documents: 1 common, 0.3 rare, < 0 a sign of a wrong codec."""
    code = ord(ch)
    if 0x4E00 <= code <= 0x9FFF:
        try:  # GB2312 level 1 holds the 3,755 most common Simplified characters
            return 1.0 if 0xB0 <= ch.encode("gb2312")[0] <= 0xD7 else 0.3
        except UnicodeEncodeError:
            pass
        try:  # Big5 A440-C67E holds the 5,401 common Traditional characters
            raw = ch.encode("cp950")
            return 1.0 if 0xA440 <= (raw[0] << 8 | raw[1]) <= 0xC67E else 0.3
        except UnicodeEncodeError:
            return -0.5
    if 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E or ch in "“”‘’…—·":
        return 1.0  # CJK and full-width punctuation
    if 0x2000 <= code <= 0x27BF or 0x00A0 <= code <= 0x00FF or 0x2460 <= code <= 0x24FF:
        return 0.2  # general punctuation, symbols, box drawing, circled numbers: possible, not telling
    return -1.0  # private use, U+FFFD, kana, bopomofo, hangul, compatibility forms, C1 controls...


def _plausibility(text: str) -> float:
    """Mean weight of the non-ASCII characters (ASCII reads the same in every candidate)."""
    weights = [_char_weight(ch) for ch in text if ord(ch) >= 0x80]
    return sum(weights) / len(weights) if weights else 0.0


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    controls = sum(
        1 for ch in text if (ord(ch) < 0x20 and ch not in _ALLOWED_CONTROLS) or 0x7F <= ord(ch) <= 0x9F
    )
    return controls / len(text)


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 puts NULs in ASCII characters and newlines; take the byte order that reads as Chinese text."""
    if len(data) % 2:
        return None
    best: tuple[float, str] | None = None
    for codec in ("utf-16-le", "utf-16-be"):
        text = _strict_decode(data, codec)
        if text is None or "\x00" in text or _control_share(text) > _MAX_CONTROL_SHARE:
            continue
        score = _plausibility(text[:8192]) if any(ord(ch) >= 0x80 for ch in text[:8192]) else 1.0
        if score >= 0.5 and (best is None or score > best[0]):
            best = (score, text)
    return (best[1], "utf-16") if best else None


def _best_cjk(data: bytes) -> tuple[str, str] | None:
    best: tuple[float, str, str] | None = None
    for label, codec in _CJK_CANDIDATES:
        text = _strict_decode(data, codec)
        if text is None:
            continue
        score = _plausibility(text)
        if best is None or score > best[0]:
            best = (score, text, label)
    return (best[1], best[2]) if best else None


def _lossy_cjk(data: bytes) -> tuple[str, str] | None:
    """A few corrupt bytes in an otherwise clean GB/Big5 file: keep the text, mark the encoding."""
    best: tuple[float, str, str] | None = None
    for label, codec in _CJK_CANDIDATES:
        text = data.decode(codec, errors="replace")
        if text.count("\ufffd") > max(1, _MAX_LOSSY_SHARE * len(text)):
            continue
        score = _plausibility(text.replace("\ufffd", ""))
        if score >= 0.6 and (best is None or score > best[0]):
            best = (score, text, label)
    return (best[1], f"{best[2]}-lossy") if best else None


def _charset_normalizer_guess(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes  # imported lazily: rarely needed

    match = from_bytes(data).best()
    if match is None or match.encoding is None:
        return None
    return str(match), match.encoding


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode the bytes of a plain-text file; returns ``(text, encoding)`` or raises ``ValueError``."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            text = _strict_decode(data, codec)
            if text is None:
                raise _NotText(f"cannot decode text (BOM says {label}, content is not)")
            return _checked(text), label
    if data.startswith(_BINARY_MAGIC):
        raise _NotText("binary file, not text")
    text = _strict_decode(data, "utf-8")
    if text is not None:
        return _checked(text), "utf-8"
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise _NotText("binary file, not text")
        return utf16
    for attempt in (_best_cjk, _lossy_cjk, _charset_normalizer_guess):
        found = attempt(data)
        if found is not None:
            return _checked(found[0]), found[1]
    tried = ", ".join(["utf-8", "utf-16"] + [label for label, _ in _CJK_CANDIDATES])
    raise _NotText(f"cannot decode text (tried {tried})")


def _checked(text: str) -> str:
    if "\x00" in text or _control_share(text) > _MAX_CONTROL_SHARE:
        raise _NotText("binary file, not text")
    return text


_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def _normalise_newlines(text: str) -> str:
    return _NEWLINES.sub("\n", text)


# --------------------------------------------------------------------------- formats


def _read_text_file(path: Path, data: bytes) -> RawDocument:
    if not data.strip():
        raise ReadError(path, "file is empty")
    try:
        text, encoding = decode_text(data)
    except ValueError as err:
        raise ReadError(path, str(err)) from err
    return RawDocument(text=text, source=source_name(path), encoding=encoding)


def _docx_blocks(container) -> Iterator[str]:
    """Paragraph and table texts of a python-docx body or cell, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, Table):
            yield from _docx_table(block)


def _docx_table(table) -> Iterator[str]:
    for row in table.rows:
        cells = []
        for cell in row.cells:  # a merged cell is returned once per grid column it spans
            if not cells or cell._tc is not cells[-1]._tc:
                cells.append(cell)
        if len(cells) == 1:  # a one-column layout table: its content is ordinary paragraphs
            yield from _docx_blocks(cells[0])
        else:
            texts = [" ".join(t.strip() for t in _docx_blocks(c) if t.strip()) for c in cells]
            yield "\t".join(texts)


def _read_docx(path: Path, data: bytes) -> RawDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not data:
        raise ReadError(path, "file is empty")
    try:
        document = docx.Document(io.BytesIO(data))
        text = "\n".join(_docx_blocks(document))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, EOFError) as err:
        raise ReadError(path, "truncated or corrupt .docx") from err
    except Exception as err:  # lxml and zlib raise many types for damaged parts
        if type(err).__module__.startswith(("lxml", "zlib", "docx")):
            raise ReadError(path, "truncated or corrupt .docx") from err
        raise
    if not text.strip():
        raise ReadError(path, "document has no text")
    return RawDocument(text=text, source=source_name(path), encoding="docx")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "cp950"}
_DATE_LINE = re.compile(
    r"^[ \t\u3000]*\S{0,6}(发布|發布|发表|發表|成文|印发|印發)?(时间|時間|日期)\s*[:：]\s*\d{4}\s*[-年./]",
    re.MULTILINE,
)
_HTML_NOISE_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe")


def _decode_html(data: bytes) -> tuple[str, str]:
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        codec = _CHARSET_ALIASES.get(name, name)
        try:
            text = _strict_decode(data, codec)
        except LookupError:
            text = None
        if text is not None:
            return text, "big5" if codec == "cp950" else codecs.lookup(codec).name
    return decode_text(data)


_BLOCK_TAGS = ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "td")


def _html_root(markup: str):
    import lxml.html

    # huge_tree lifts libxml2's nesting limit (256 → 2048) and text-node size limit
    return lxml.html.document_fromstring(markup, parser=lxml.html.HTMLParser(huge_tree=True))


class _FlatText(html.parser.HTMLParser):
    """Visible text by a streaming parser: no tree, so no nesting limit at all."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._noise = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HTML_NOISE_TAGS:
            self._noise += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_NOISE_TAGS and self._noise:
            self._noise -= 1

    def handle_data(self, data: str) -> None:
        if not self._noise:
            self.parts.append(data)


def _flat_text(markup: str) -> str:
    parser = _FlatText()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def _nested_too_deep(markup: str, limit: int = 255) -> bool:
    """Whether tags nest deeper than libxml2's default limit somewhere (counted on a streaming parse)."""
    depth = deepest = 0
    for match in re.finditer(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)>", markup):
        if match.group(1):
            depth = max(0, depth - 1)
        elif not match.group(3) and match.group(2).lower() not in _VOID_TAGS:
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return True
    return False


_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


def _html_fallback_text(markup: str) -> str:
    """Visible text of the page minus scripts and navigation, one line per block element."""
    root = _html_root(markup)
    for element in root.iter(*_HTML_NOISE_TAGS):
        element.drop_tree()
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    text = root.text_content()
    # lxml silently drops what lies deeper than its nesting limit; the streaming parser has none
    flat = _flat_text(markup)
    return flat if len("".join(flat.split())) > 2 * len("".join(text.split())) else text


def _html_title(markup: str) -> str:
    """The article heading: the first <h1>, else the <title>."""
    root = _html_root(markup)
    for xpath in ("//h1", "//title"):
        for element in root.xpath(xpath):
            title = " ".join(element.text_content().split())
            if title:
                return title
    return ""


def _read_html(path: Path, data: bytes) -> RawDocument:
    import trafilatura
    from lxml.etree import ParserError

    if not data.strip():
        raise ReadError(path, "file is empty")
    try:
        markup, encoding = _decode_html(data)
    except ValueError as err:
        raise ReadError(path, str(err)) from err
    markup = _XML_DECLARATION.sub("", markup)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    try:
        body = trafilatura.extract(markup, include_comments=False, include_tables=True) or ""
        full = _html_fallback_text(markup)
        title = _html_title(markup)
    except (ParserError, ValueError) as err:
        raise ReadError(path, "cannot parse HTML") from err
    if len("".join(body.split())) * 2 < len("".join(full.split())) and _nested_too_deep(markup):
        body = full  # trafilatura's parser stopped at its nesting limit: keep all the text
    if not body.strip():
        body = full
    # trafilatura keeps the article body only; title and publication line are what metadata needs.
    head = [title] if title and title not in body[: len(title) + 200] else []
    date = _DATE_LINE.search(full)
    if date and not _DATE_LINE.search(body):
        line_end = full.find("\n", date.start())
        head.append(full[date.start() : line_end if line_end >= 0 else None].strip())
    text = "\n".join([*head, body]) if head else body
    if not text.strip():
        raise ReadError(path, "document has no text")
    return RawDocument(text=text, source=source_name(path), encoding=f"html:{encoding}")


def _read_pdf(path: Path, data: bytes) -> RawDocument:
    import pypdf
    from pypdf.errors import PdfReadError

    if not data.strip():
        raise ReadError(path, "file is empty")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError(path, "PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, EOFError, AttributeError) as err:
        raise ReadError(path, "truncated or corrupt .pdf") from err
    except Exception as err:
        if type(err).__module__.startswith(("pypdf", "cryptography", "zlib")):
            raise ReadError(path, "truncated or corrupt .pdf") from err
        raise
    text = "\n".join(page.rstrip("\n") for page in pages)
    if not text.strip():
        raise ReadError(path, "PDF has no text layer (scanned?)")
    return RawDocument(text=text, source=source_name(path), encoding="pdf")


_READERS: dict[str, Callable[[Path, bytes], RawDocument]] = {
    **dict.fromkeys(TEXT_SUFFIXES, _read_text_file),
    **dict.fromkeys(HTML_SUFFIXES, _read_html),
    ".docx": _read_docx,
    ".pdf": _read_pdf,
}


def _suffix(name: str) -> str:
    # "report.txt " (a trailing space from a careless rename) is still a .txt file
    return os.path.splitext(name.rstrip())[1].lower()


def read_document(path: Path | str, root: Path | None = None) -> RawDocument:
    """Read one file by its suffix; newlines are normalised to ``\\n``. Raises ``ReadError``.

    Only a regular file is opened (``SkippedFile`` otherwise), inside ``root`` when given.
    """
    path = Path(path)
    suffix = _suffix(path.name)
    reader = _READERS.get(suffix)
    if reader is None:
        if suffix in UNREAD_DOCUMENT_SUFFIXES:
            raise ReadError(path, f"unsupported file type {suffix}: save it as .docx, .pdf or .txt")
        if os.path.lexists(path) and not os.path.isfile(path) and not os.path.isdir(path):
            try:  # raises the reason (special file, link loop, dangling link) and reads nothing
                read_regular(path, root, 0)
            except SkippedFile:
                raise
            except ReadError as err:
                raise SkippedFile(path, err.reason) from err
        raise ReadError(path, f"unsupported file type {suffix or '(no suffix)'}")
    if path.is_dir():
        raise ReadError(path, "is a directory")
    raw = reader(path, read_regular(path, root, MAX_BYTES))
    return RawDocument(text=_normalise_newlines(raw.text), source=raw.source, encoding=raw.encoding)


def _is_hidden(name: str) -> bool:
    # Hidden files and Office lock files ("~$report.docx") are not documents.
    return name.startswith((".", "~$"))


def _is_wanted(name: str) -> bool:
    suffix = _suffix(name)
    return suffix in SUPPORTED_SUFFIXES or suffix in UNREAD_DOCUMENT_SUFFIXES


def list_entries(paths: Iterable[Path | str]) -> list[ListedFile]:
    """What ``iter_documents`` reads, in its order: given files as they are, folders expanded (supported
    and known-but-unread document types, and anything that is not a regular file, to be reported)."""
    return list_sources(paths, _is_wanted, _is_hidden)


def list_files(paths: Iterable[Path | str]) -> list[Path]:
    return [entry.path for entry in list_entries(paths)]


def iter_documents(paths: Iterable[Path | str | ListedFile]) -> Iterator[RawDocument | ReadError]:
    """Documents of the given files and folders (recursively, supported types, sorted).

    A file that cannot be read yields its ``ReadError`` and the rest continue.
    """
    given = list(paths)
    entries = [p for p in given if isinstance(p, ListedFile)]
    entries += list_entries([p for p in given if not isinstance(p, ListedFile)])
    for entry in entries:
        try:
            yield read_document(entry.path, entry.root)
        except ReadError as err:
            yield err
        except Exception as err:  # a reader bug on one odd file must not end the batch
            yield ReadError(entry.path, f"unexpected {type(err).__name__}: {err}")
