from __future__ import annotations

import os
import pickle
import random
from pathlib import Path

import pytest

from indexer.ingest import readers
from indexer.ingest.readers import RawDocument, ReadError, decode_text, iter_documents, read_document

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SIMPLIFIED = (SEEDS / "000_c075aef1fe53fa61.txt").read_text(encoding="utf-8")
TRADITIONAL = (SEEDS / "001_8983b31abeb2f5d4.txt").read_text(encoding="utf-8")
ARTICLE = [
    "金城乡2023年法治政府建设工作报告",
    "2023年，在县委、县政府的正确领导下，金城乡始终坚持以习近平新时代中国特色社会主义思想为指导，"
    "深入学习宣传贯彻党的二十大精神和习近平法治思想，自觉运用法治思维和法治方式深化改革、推动发展。",
    "一、2023年度推进法治政府建设的主要举措和成效",
    "乡党委、政府对法治政府建设高度重视，将其纳入全年工作重点，调整充实法治政府建设领导机构，"
    "细化领导小组成员分工，明确责任，明确工作，做到法治建设工作与全乡工作同安排、同布置。",
]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def assert_read_error(path: Path, reason_part: str) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_document(path)
    assert info.value.path == str(path)
    assert reason_part in info.value.reason
    assert str(info.value) == f"{path}: {info.value.reason}"
    return info.value


# --------------------------------------------------------------------------- plain text encodings


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TRADITIONAL.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TRADITIONAL.encode("utf-8"), "utf-8-sig"),
        (TRADITIONAL.encode("utf-16"), "utf-16"),  # with BOM, native order
        (b"\xff\xfe" + TRADITIONAL.encode("utf-16-le"), "utf-16"),
        (b"\xfe\xff" + TRADITIONAL.encode("utf-16-be"), "utf-16"),
        (TRADITIONAL.encode("utf-16-le"), "utf-16"),  # no BOM: the byte order that reads as Chinese
        (TRADITIONAL.encode("utf-16-be"), "utf-16"),
        (TRADITIONAL.encode("big5"), "big5"),
        (TRADITIONAL.encode("gb18030"), "gb18030"),  # Traditional characters in a GBK file
        (SIMPLIFIED.encode("gbk"), "gb18030"),
        (SIMPLIFIED.encode("gb18030"), "gb18030"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_text_file_encodings(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = write(tmp_path / "report.txt", data)
    doc = read_document(path)
    assert doc == RawDocument(text=doc.text, source=str(path), encoding=encoding)
    expected = TRADITIONAL if "鄉" in doc.text else SIMPLIFIED
    assert doc.text == expected


def test_big5_lines_are_not_taken_for_gb18030() -> None:
    # Big5 bytes nearly always also decode as GB18030; every single line must still come out right.
    lines = [line for line in TRADITIONAL.splitlines() if len(line) >= 12]
    assert len(lines) >= 5
    for line in lines:
        data = line.encode("big5")
        assert data.decode("gb18030") != line  # the trap is real
        assert decode_text(data) == (line, "big5")


def test_gbk_lines_are_not_taken_for_big5() -> None:
    for line in (line for line in SIMPLIFIED.splitlines() if len(line) >= 12):
        assert decode_text(line.encode("gbk")) == (line, "gb18030")
    short = "金城乡2023年".encode("gbk")
    assert short.decode("cp950")  # also valid Big5: only plausibility can decide
    assert decode_text(short)[1] == "gb18030"
    assert decode_text("船溪鄉2022年度法治政府建設工作情況".encode("gbk"))[1] == "gb18030"


def test_crlf_and_cr_are_normalised(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "第一行\r\n第二行\r第三行\n".encode("gbk"))
    assert read_document(path).text == "第一行\n第二行\n第三行\n"


def test_multibyte_character_cut_at_the_end_is_tolerated(tmp_path: Path) -> None:
    data = SIMPLIFIED.strip().encode("gb18030")
    doc = read_document(write(tmp_path / "cut.txt", data[:-1]))
    assert doc.encoding == "gb18030"
    assert doc.text == SIMPLIFIED.strip()[:-1]


def test_one_corrupt_byte_keeps_the_text_and_says_so(tmp_path: Path) -> None:
    data = bytearray(SIMPLIFIED.encode("gb18030"))
    data[len(data) // 2 : len(data) // 2 + 2] = b"\x80\x80"  # invalid in GB18030 and in Big5
    doc = read_document(write(tmp_path / "bad.txt", bytes(data)))
    assert doc.encoding == "gb18030-lossy"
    assert doc.text.count("\ufffd") <= 2
    assert doc.text.startswith(SIMPLIFIED[:100])


@pytest.mark.parametrize("suffix", [".txt", ".md", ".text"])
def test_text_suffixes(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"a{suffix}", "法治政府建设".encode())
    assert read_document(path).text == "法治政府建设"


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t"], ids=["zero-bytes", "whitespace"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    assert_read_error(write(tmp_path / "empty.txt", data), "file is empty")


def test_random_bytes_are_binary(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(4096)
    assert_read_error(write(tmp_path / "noise.txt", data), "binary file, not text")


def test_png_named_txt_is_binary(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    assert_read_error(write(tmp_path / "image.txt", png), "binary file, not text")


def test_control_characters_are_binary(tmp_path: Path) -> None:
    data = ("法治" * 50).encode() + bytes(range(1, 9)) * 10
    assert_read_error(write(tmp_path / "ctl.txt", data), "binary file, not text")


def test_undecodable_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "_charset_normalizer_guess", lambda data: None)
    data = bytes([0x81, 0x30, 0xFF, 0x80]) * 200
    error = assert_read_error(write(tmp_path / "odd.txt", data), "cannot decode text (tried")
    assert "gb18030" in error.reason and "big5" in error.reason


def test_unsupported_suffix(tmp_path: Path) -> None:
    assert_read_error(write(tmp_path / "report.xyz", b"text"), "unsupported file type .xyz")
    assert_read_error(write(tmp_path / "report.doc", b"\xd0\xcf\x11\xe0"), "unsupported file type .doc")


def test_missing_file(tmp_path: Path) -> None:
    assert_read_error(tmp_path / "nowhere.txt", "no such file")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.txt", "法治".encode())
    path.chmod(0)
    assert_read_error(path, "cannot read: permission denied")


def test_read_error_pickles() -> None:
    error = pickle.loads(pickle.dumps(ReadError("a/b.txt", "file is empty")))
    assert (error.path, error.reason, str(error)) == ("a/b.txt", "file is empty", "a/b.txt: file is empty")


# --------------------------------------------------------------------------- .docx


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(ARTICLE[0], level=1)
    document.add_paragraph(ARTICLE[1])
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "项目"
    table.cell(0, 1).merge(table.cell(0, 2)).text = "数量"
    table.cell(1, 0).text = "行政复议"
    table.cell(1, 1).text = "3件"
    table.cell(1, 2).text = "已办结"
    document.add_paragraph(ARTICLE[2])
    layout = document.add_table(rows=1, cols=1)  # a whole section laid out in one cell
    layout.cell(0, 0).text = ARTICLE[3]
    layout.cell(0, 0).add_paragraph("（一）健全制度、强化领导")
    document.save(str(path))
    return path


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    doc = read_document(make_docx(tmp_path / "report.docx"))
    assert doc.encoding == "docx"
    assert doc.text.split("\n") == [
        ARTICLE[0],
        ARTICLE[1],
        "项目\t数量",  # the merged cell once, not twice
        "行政复议\t3件\t已办结",
        ARTICLE[2],
        ARTICLE[3],
        "（一）健全制度、强化领导",
    ]


def test_truncated_docx(tmp_path: Path) -> None:
    data = make_docx(tmp_path / "full.docx").read_bytes()
    path = write(tmp_path / "half.docx", data[: len(data) // 2])
    assert_read_error(path, "truncated or corrupt .docx")


def test_text_file_renamed_docx(tmp_path: Path) -> None:
    assert_read_error(write(tmp_path / "fake.docx", "不是文档".encode()), "truncated or corrupt .docx")


def test_docx_without_text(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    assert_read_error(path, "document has no text")


# --------------------------------------------------------------------------- .html

PAGE = """<!DOCTYPE html><html><head><meta charset="{charset}"><title>金城乡人民政府网</title></head>
<body>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li>
<li><a href="/bsfw">办事服务</a></li><li><a href="/hdjl">互动交流</a></li></ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/fz">法治政府建设</a></div>
<div class="article">
<h1>{title}</h1>
<div class="info">发布时间：2024-01-19 来源：金城乡人民政府 浏览次数：235</div>
<div class="tools">下载 | 打印 | 全屏 | 收藏 【字号：大 中 小】</div>
<div class="content">{paragraphs}</div>
</div>
<div class="share">分享到：微信 微博</div>
<div class="footer">主办单位：博爱县人民政府 版权所有 备案号：豫ICP备12345678号</div>
<script>var counter = 1;</script>
</body></html>"""


def make_page(charset: str = "utf-8") -> str:
    paragraphs = "\n".join(f"<p>{line}</p>" for line in ARTICLE[1:])
    return PAGE.format(charset=charset, title=ARTICLE[0], paragraphs=paragraphs)


@pytest.mark.parametrize(
    ("charset", "codec", "label"),
    [("utf-8", "utf-8", "html:utf-8"), ("gb2312", "gb18030", "html:gb18030")],
)
def test_html_main_text_only(tmp_path: Path, charset: str, codec: str, label: str) -> None:
    path = write(tmp_path / "page.html", make_page(charset).encode(codec))
    doc = read_document(path)
    assert doc.encoding == label
    lines = doc.text.split("\n")
    assert lines[0] == ARTICLE[0]
    assert any(line.startswith("发布时间：2024-01-19") for line in lines[:3])
    for paragraph in ARTICLE[1:]:
        assert paragraph in lines
    for chrome in ("政务公开", "办事服务", "版权所有", "分享到", "var counter", "当前位置"):
        assert chrome not in doc.text


def test_html_falls_back_to_lxml_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *args, **kwargs: None)
    path = write(tmp_path / "page.htm", make_page().encode())
    doc = read_document(path)
    assert ARTICLE[1] in doc.text
    assert "var counter" not in doc.text


def test_html_without_text(tmp_path: Path) -> None:
    path = write(tmp_path / "blank.html", b"<html><head><script>x=1</script></head><body></body></html>")
    assert_read_error(path, "document has no text")


# --------------------------------------------------------------------------- .pdf


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    for page in pages:
        pdf.setFont("STSong-Light", 12)
        for row, line in enumerate(page):
            pdf.drawString(72, 760 - 20 * row, line)
        pdf.rect(60, 60, 100, 100)
        pdf.showPage()
    pdf.save()
    return path


def test_pdf_text_layer(tmp_path: Path) -> None:
    pages = [
        ["金城乡2023年法治政府建设工作报告", "一、主要举措和成效"],
        ["船溪鄉法治政府建設", "二、存在問題"],
    ]
    doc = read_document(make_pdf(tmp_path / "report.pdf", pages))
    assert doc.encoding == "pdf"
    assert doc.text.split("\n") == [line for page in pages for line in page]


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    assert_read_error(make_pdf(tmp_path / "scan.pdf", [[]]), "PDF has no text layer (scanned?)")


def test_truncated_pdf(tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "full.pdf", [["法治政府建设"]]).read_bytes()
    path = write(tmp_path / "half.pdf", data[: len(data) // 3])
    assert_read_error(path, "truncated or corrupt .pdf")


# --------------------------------------------------------------------------- iter_documents


def test_iter_documents_yields_good_files_and_errors_for_bad_ones(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    (folder / "sub").mkdir(parents=True)
    (folder / ".git").mkdir()
    write(folder / "b_gbk.txt", SIMPLIFIED.encode("gbk"))
    write(folder / "sub" / "c_big5.txt", TRADITIONAL.encode("big5"))
    make_docx(folder / "a.docx")
    make_pdf(folder / "sub" / "d.pdf", [["法治政府建设"]])
    write(folder / "e.html", make_page().encode())
    write(folder / "empty.txt", b"")
    write(folder / "noise.txt", random.Random(1).randbytes(2048))
    write(folder / "half.docx", (folder / "a.docx").read_bytes()[:900])
    write(folder / "notes.xyz", b"skipped: not a supported type")
    write(folder / "~$a.docx", b"lock file")
    write(folder / ".hidden.txt", b"hidden")
    write(folder / ".git" / "x.txt", b"inside .git")

    results = list(iter_documents([folder]))

    good = [item for item in results if isinstance(item, RawDocument)]
    bad = {Path(item.path).name: item.reason for item in results if isinstance(item, ReadError)}
    assert [Path(doc.source).name for doc in good] == ["a.docx", "b_gbk.txt", "e.html", "c_big5.txt", "d.pdf"]
    assert bad == {
        "empty.txt": "file is empty",
        "half.docx": "truncated or corrupt .docx",
        "noise.txt": "binary file, not text",
    }
    order = [Path(item.source if isinstance(item, RawDocument) else item.path) for item in results]
    assert order == sorted(order)


def test_iter_documents_accepts_files_and_reports_each(tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", "法治".encode())
    results = list(iter_documents([good, str(tmp_path / "missing.txt"), tmp_path / "x.xyz"]))
    assert isinstance(results[0], RawDocument) and results[0].text == "法治"
    assert [(type(r), getattr(r, "reason", "")) for r in results[1:]] == [
        (ReadError, "no such file"),
        (ReadError, "unsupported file type .xyz"),
    ]


def test_iter_documents_survives_a_reader_bug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: Path, data: bytes) -> RawDocument:
        raise RuntimeError("boom")

    monkeypatch.setitem(readers._READERS, ".md", broken)
    write(tmp_path / "a.md", b"x")
    write(tmp_path / "b.txt", "法治".encode())
    results = list(iter_documents([tmp_path]))
    assert isinstance(results[0], ReadError) and results[0].reason == "unexpected RuntimeError: boom"
    assert isinstance(results[1], RawDocument) and results[1].text == "法治"


# --------------------------------------------------------------------------- special files and links


def _special_folder(tmp_path: Path) -> Path:
    import socket

    folder = tmp_path / "reports"
    folder.mkdir()
    write(folder / "good.txt", "法治政府建设".encode())
    os.mkfifo(folder / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "sock"))  # no suffix: still named, not passed over
    server.close()
    os.symlink("loop-b.txt", folder / "loop-a.txt")
    os.symlink("loop-a.txt", folder / "loop-b.txt")
    os.symlink("/etc/passwd", folder / "passwd.txt")
    os.symlink("/dev/zero", folder / "z.txt")
    return folder


def test_only_regular_files_inside_the_folder_are_read(tmp_path: Path) -> None:
    # A reader that opened the FIFO would block here for ever (the test would hang, not fail).
    results = list(iter_documents([_special_folder(tmp_path)]))
    good = [Path(r.source).name for r in results if isinstance(r, RawDocument)]
    skipped = {Path(r.path).name: r.reason for r in results if isinstance(r, readers.SkippedFile)}
    assert good == ["good.txt"]
    assert skipped.keys() == {"pipe.txt", "sock", "loop-a.txt", "loop-b.txt", "passwd.txt", "z.txt"}
    assert "FIFO" in skipped["pipe.txt"] and "socket" in skipped["sock"]
    assert skipped["loop-a.txt"] == "symbolic link loop"
    assert "links outside" in skipped["passwd.txt"] and "links outside" in skipped["z.txt"]


def test_a_named_device_is_refused_without_reading(tmp_path: Path) -> None:
    link = tmp_path / "zero.txt"
    os.symlink("/dev/zero", link)
    with pytest.raises(readers.SkippedFile, match="character device"):
        read_document(link)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_the_read_limit_does_not_trust_the_reported_size() -> None:
    from indexer.ingest.file_access import read_regular

    status = Path("/proc/self/status")
    assert status.stat().st_size == 0  # what a size check alone would see
    with pytest.raises(ReadError, match="too large"):
        read_regular(status, None, 10)
    assert read_regular(status, None, 1 << 20).startswith(b"Name:")


def test_unread_document_types_and_trailing_spaces_are_not_passed_over(tmp_path: Path) -> None:
    write(tmp_path / "old.doc", b"\xd0\xcf\x11\xe0 an OLE document")
    write(tmp_path / "spaced.txt ", "法治政府建设".encode())
    write(tmp_path / "photo.jpg", b"\xff\xd8\xff")
    results = list(iter_documents([tmp_path]))
    assert [(type(r), Path(r.path).name, r.reason) for r in results if isinstance(r, ReadError)] == [
        (ReadError, "old.doc", "unsupported file type .doc: save it as .docx, .pdf or .txt")
    ]
    assert [r.text for r in results if isinstance(r, RawDocument)] == ["法治政府建设"]


def test_a_file_name_that_is_not_utf8_is_read_and_named_as_text(tmp_path: Path) -> None:
    name = os.fsdecode(b"r\xe9port-\xff.txt")  # Latin-1 bytes: surrogate escapes in the str
    write(tmp_path / name, "法治政府建设".encode())
    (doc,) = iter_documents([tmp_path])
    assert isinstance(doc, RawDocument)
    assert doc.source.endswith("r\\xe9port-\\xff.txt")
    doc.source.encode("utf-8")  # storable and printable


@pytest.mark.parametrize("depth", [300, 3000])
def test_deeply_nested_html_keeps_its_text(tmp_path: Path, depth: int) -> None:
    body = "<div>" * depth + f"<p>{ARTICLE[1]}</p>" + "</div>" * depth
    page = f"<html><head><title>{ARTICLE[0]}</title></head><body>{body}</body></html>"
    doc = read_document(write(tmp_path / "deep.html", page.encode()))
    assert ARTICLE[0] in doc.text and ARTICLE[1] in doc.text
