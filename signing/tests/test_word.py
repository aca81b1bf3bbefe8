"""The Word copy of a letter: seed 001's .docx, converted by LibreOffice, measured like the PDF
renderer's pages (A4, margins, sizes, the red header, page numbers), its text the letter's."""

from __future__ import annotations

import io
import itertools
import re
import shutil
import subprocess
import zipfile
from dataclasses import replace

import pdfplumber
import pytest
from docx import Document

from replies.letter import Letter
from replies.tests.conftest import seed_letter
from replies.tests.test_pdf import MM, PAGE_HEIGHT, PAGE_WIDTH, is_red, squeeze
from signing.word import letter_docx

PAGE_NUMBER = re.compile(r"^—\s*(\d+)\s*—$")
COPY_MARK = "副本（以签发件PDF为准）"
HANGING = set("，。、；：？！”’）》")


def letter_text(letter: Letter) -> str:
    """What the letter says, labels included, in print order."""
    c = letter.contact
    parts = [
        f"办理结果：{letter.result_label}" if letter.result_label else "",
        f"公开属性：{letter.disclosure}" if letter.disclosure else "",
        *letter.organs,
        "文件",
        letter.doc_number,
        letter.title,
        letter.salutation,
        *(block.text for block in letter.body),
        *letter.signing_organs,
        letter.date_text,
        f"（{letter.note}）" if letter.note else "",
        *(
            f"{label}：{value}"
            for label, value in (
                ("联系人姓名", c.person),
                ("联系电话", c.phone),
                ("联系地址", c.address),
                ("邮政编码", c.postcode),
            )
            if value
        ),
        f"抄送：{'，'.join(letter.cc)}。" if letter.cc else "",
        f"{letter.printed_by}{letter.printed_on_text}印发" if letter.printed_by else "",
    ]
    return squeeze("".join(parts))


def to_pdf(docx: bytes, tmp_path) -> bytes:
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (scripts/bootstrap installs it)"
    source = tmp_path / "letter.docx"
    source.write_bytes(docx)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return (tmp_path / "letter.pdf").read_bytes()


@pytest.fixture(scope="module")
def seed() -> Letter:
    return seed_letter("001")


@pytest.fixture(scope="module")
def converted(seed, tmp_path_factory):
    """Seed 001's Word copy (of the signed letter) as LibreOffice prints it, page by page."""
    pdf = to_pdf(letter_docx(seed, copy=True), tmp_path_factory.mktemp("word"))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [
            {
                "width": float(p.width),
                "height": float(p.height),
                "lines": p.extract_text_lines(),
                "rules": [*p.rects, *p.lines],
            }
            for p in document.pages
        ]


def _body_lines(page) -> list[dict]:
    return [
        line
        for line in page["lines"]
        if not PAGE_NUMBER.match(line["text"].strip()) and line["text"].strip() != COPY_MARK
    ]


def test_the_docx_says_exactly_what_the_letter_says(seed):
    document = Document(io.BytesIO(letter_docx(seed)))
    assert squeeze("".join(p.text for p in document.paragraphs)) == letter_text(seed)


def test_every_page_is_a4_with_the_type_area_mirrored_on_even_pages(converted):
    assert len(converted) >= 3
    for number, page in enumerate(converted, 1):
        assert (page["width"], page["height"]) == pytest.approx((PAGE_WIDTH, PAGE_HEIGHT), abs=1)
        left = (28 if number % 2 else 26) * MM
        lines = _body_lines(page)
        assert min(line["x0"] for line in lines) >= left - 1
        if number < len(converted):  # the last page may hold only indented lines
            assert min(line["x0"] for line in lines) == pytest.approx(left, abs=1)
        # LibreOffice hangs a closing punctuation mark past the edge (its Asian typography
        # default, which w:overflowPunct does not turn off); every other character stays in.
        inside = [c for line in lines for c in line["chars"] if c["text"] not in HANGING]
        assert max(c["x1"] for c in inside) <= left + 156 * MM + 2
        assert min(line["top"] for line in lines) >= 37 * MM - 1
        assert max(line["bottom"] for line in lines) <= PAGE_HEIGHT - 35 * MM + 2


def _full_pages(converted, seed) -> list[dict]:
    """The pages between the first and the one with the 落款."""
    last = next(
        n
        for n, page in enumerate(converted)
        if any(squeeze(line["text"]) == seed.date_text for line in page["lines"])
    )
    return converted[1:last]


def test_full_pages_hold_22_lines_on_the_grid(converted, seed):
    assert len(_full_pages(converted, seed)) >= 3
    for page in _full_pages(converted, seed):
        tops = [line["top"] for line in _body_lines(page)]
        assert len(tops) == 22
        pitches = [b - a for a, b in itertools.pairwise(tops)]
        assert all(p == pytest.approx(28.95, abs=0.6) for p in pitches), pitches


def test_body_is_16pt_and_the_title_22pt(converted, seed):
    sizes = {
        round(char["size"], 1)
        for page in converted[1:-1]
        for line in _body_lines(page)
        for char in line["chars"]
        if char["text"].strip()
    }
    assert sizes == {16.0}
    title = "".join(
        line["text"]
        for line in converted[0]["lines"]
        if line["chars"][0]["size"] == pytest.approx(22, abs=0.1)
    )
    assert seed.title.startswith(squeeze(title)) and len(squeeze(title)) > 10


def test_the_organ_and_its_rule_are_red(converted, seed):
    first = converted[0]
    (organ,) = [line for line in first["lines"] if squeeze(line["text"]) == f"{seed.organs[0]}文件"]
    assert all(is_red(char["non_stroking_color"]) for char in organ["chars"])
    assert organ["chars"][0]["size"] > 22
    number = next(
        line for line in first["lines"] if squeeze(line["text"]) == squeeze(seed.doc_number)
    )
    rules = [
        r
        for r in first["rules"]
        if is_red(r.get("stroking_color")) or is_red(r.get("non_stroking_color"))
    ]
    assert rules and all(r["top"] > number["bottom"] for r in rules)
    assert max(r["x1"] - r["x0"] for r in rules) == pytest.approx(156 * MM, abs=3)


def test_page_numbers_alternate_on_the_outer_side_below_the_type_area(converted):
    for number, page in enumerate(converted, 1):
        (line,) = [line for line in page["lines"] if PAGE_NUMBER.match(line["text"].strip())]
        assert int(PAGE_NUMBER.match(line["text"].strip()).group(1)) == number
        assert line["top"] > PAGE_HEIGHT - 35 * MM + 2 * MM
        if number % 2:
            assert line["x1"] > PAGE_WIDTH / 2 + 120  # odd pages: right
        else:
            assert line["x0"] < PAGE_WIDTH / 2 - 120  # even pages: left
        assert line["chars"][-1]["size"] == pytest.approx(14, abs=0.1)


def test_its_text_equals_the_letters_text(converted, seed):
    text = "".join(line["text"] for page in converted for line in _body_lines(page))
    assert squeeze(text) == letter_text(seed)


def test_a_draft_is_watermarked_and_a_signed_copy_marked_as_a_copy(seed):
    draft = zipfile.ZipFile(io.BytesIO(letter_docx(replace(seed, draft=True))))
    headers = "".join(draft.read(n).decode() for n in draft.namelist() if "header" in n)
    assert 'string="草稿"' in headers and COPY_MARK not in headers
    copy = zipfile.ZipFile(io.BytesIO(letter_docx(seed, copy=True)))
    headers = "".join(copy.read(n).decode() for n in copy.namelist() if "header" in n)
    assert COPY_MARK in headers and "草稿" not in headers
    settings = copy.read("word/settings.xml").decode()
    assert "w:mirrorMargins" in settings and "w:evenAndOddHeaders" in settings
    document = copy.read("word/document.xml").decode()
    assert 'w:linePitch="579"' in document
    assert 'w:eastAsia="仿宋_GB2312"' in copy.read("word/styles.xml").decode()
    assert (
        'w:name="仿宋_GB2312"><w:altName w:val="仿宋"' in copy.read("word/fontTable.xml").decode()
    )
