"""Sealed joint letters (联合行文, GB/T 9704-2012 §7.3.5.2): the signing organs side by side in
rows, each seal upright and centred over its own name, the last over its name and the date,
the first organ first, the seals apart and inside the type area. Measured on the rendered and
stamped PDF: the names and the date as printed words, the seals as the signature widgets that
show the seal's picture."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, replace

import pdfplumber
import pytest
from pdfminer.pdftypes import resolve1

from proposals.models import Unit
from replies import workflow as rwf
from replies.letter import Letter, seal_name_lines
from replies.models import Reply
from replies.pdf import render_letter_pdf
from replies.tests import test_admin as base
from replies.tests.conftest import build_joint_letter, seed_letter
from signing import artwork, keys, pades, placement, seals, stamping
from signing.tests.conftest import ORGANS

MM = 72 / 25.4
RADIUS = 21 * MM
LINE = 28.95
MORE = ("上海市普陀区科学技术委员会", "上海市普陀区教育局")
NAMES = ORGANS + MORE
#: Short names, one line each in a column of three: three rows of seals.
SHORT = ("区发展改革委", "区财政局", "区商务委", "区科委", "区教育局", "区民政局", "区卫生健康委")
#: Rows of organs each count prints in: at most three a row, the longer rows first.
ROWS = {2: [2], 3: [3], 4: [2, 2], 5: [3, 2], 7: [3, 2, 2]}

assigned, draft, pending, signed = base.assigned, base.draft, base.pending, base.signed
media = base.media


def sealed_joint(count: int) -> Letter:
    names = NAMES if count <= len(NAMES) else SHORT
    return build_joint_letter(
        organs=NAMES[: min(count, 3)], signature_organs=names[:count], sealed=True
    )


@dataclass(frozen=True)
class Area:
    """A rectangle as pdfplumber measures it: from the page's top, in points."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.top + self.bottom) / 2


def _join(areas) -> Area:
    return Area(
        min(a.x0 for a in areas),
        min(a.top for a in areas),
        max(a.x1 for a in areas),
        max(a.bottom for a in areas),
    )


def _words(page) -> list[tuple[str, Area]]:
    return [
        (w["text"], Area(w["x0"], w["top"], w["x1"], w["bottom"]))
        for w in page.extract_words(x_tolerance=3, keep_blank_chars=False)
    ]


def name_area(page, organ: str, lines: tuple[str, ...], *, above: float) -> Area:
    """Where ``organ`` prints as ``lines`` above ``above`` (the 落款's date, not the 版记):
    words of consecutive lines, one under the other."""
    words = _words(page)
    found = []
    for text, first in words:
        if text != lines[0]:
            continue
        stack = [first]
        for line in lines[1:]:
            below = [
                area
                for text, area in words
                if text == line
                and abs(area.top - stack[-1].top - LINE) < 2
                and area.x0 < stack[-1].x1
                and stack[-1].x0 < area.x1
            ]
            if len(below) != 1:
                break
            stack.append(below[0])
        if len(stack) == len(lines) and stack[-1].bottom <= above:
            found.append(_join(stack))
    assert found, f"{organ} is not printed as {lines}"
    return max(found, key=lambda area: area.bottom)  # the 落款's, not a line of the text


def word_area(page, text: str) -> Area:
    return max((area for word, area in _words(page) if word == text), key=lambda a: a.bottom)


def seal_areas(page) -> list[Area]:
    """The seals pressed on the page: signature widgets whose appearance shows a picture."""
    areas = []
    for annot in page.annots:
        appearance = resolve1(resolve1(annot["data"]["AP"])["N"])
        resources = resolve1(appearance.attrs.get("Resources", {}))
        pictures = [
            resolve1(x) for x in resolve1(resources.get("XObject", {})).values() if resources
        ]
        if any(p.attrs.get("Subtype").name == "Image" for p in pictures):
            areas.append(Area(annot["x0"], annot["top"], annot["x1"], annot["bottom"]))
    return areas


def stamp(letter: Letter, pdf: bytes) -> bytes:
    where = placement.seal_placement(pdf, letter.signing_organs, letter.date_text)
    return pades.sign_pdf(
        pdf,
        [
            pades.SealedSignature(
                keys.key_source(None),
                f"Seal{n}",
                where.page,
                box,
                seals.seal_picture(artwork.draw_seal(organ), "png"),
            )
            for n, (organ, box) in enumerate(
                zip(letter.signing_organs, where.boxes, strict=True), 1
            )
        ],
    )


@pytest.fixture(scope="module")
def stamped(tmp_path_factory) -> dict[int, tuple[Letter, bytes]]:
    """Sealed joint letters of 2–5 organs, stamped with 演示 seals (a throw-away key)."""
    from django.test import override_settings

    from signing.tests.conftest import write_ca

    directory = tmp_path_factory.mktemp("keys")
    ca = write_ca(directory)
    from signing import certificates

    certificates.issue_certificate(ca, "区政协提案办理系统测试").write(directory, "district")
    out = {}
    with override_settings(SIGNING_KEYS_DIR=str(directory), SIGNING_TSA_URL=""):
        for count in ROWS:
            letter = sealed_joint(count)
            out[count] = (letter, stamp(letter, render_letter_pdf(letter)))
    return out


def _last_page_with_seals(document):
    return next(page for page in reversed(document.pages) if seal_areas(page))


@pytest.mark.parametrize("count", sorted(ROWS))
def test_sealed_joint_organs_stand_side_by_side_in_rows_the_date_under_the_last(stamped, count):
    letter, pdf = stamped[count]
    lines = [name for row in letter.sealed_rows for name in row.names]
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = _last_page_with_seals(document)
        date = word_area(page, letter.date_text)
        names = [
            name_area(page, organ, name_lines, above=date.top)
            for organ, name_lines in zip(letter.signing_organs, lines, strict=True)
        ]
        right = page.width - (26 * MM if page.page_number % 2 else 28 * MM)
    # Rows of names ending on one line, as many as the standard's three-a-row asks, the lead
    # organ first (left, top row first).
    bottoms = sorted({round(n.bottom) for n in names})
    assert [sum(round(n.bottom) == b for n in names) for b in bottoms] == ROWS[count]
    assert names == sorted(names, key=lambda n: (round(n.bottom), n.x0))
    for a, b in itertools.pairwise(names):
        if round(a.bottom) == round(b.bottom):
            assert b.x0 - a.x1 > 5  # standing apart, never run together
    # The date on the line under the last row, centred under the last organ, about four
    # characters in from the right edge of the type area.
    assert abs(date.top - names[-1].bottom) < LINE
    assert abs(date.centre[0] - names[-1].centre[0]) < 1
    assert 3.5 * 15.79 < right - date.x1 < 5 * 15.79


@pytest.mark.parametrize("count", sorted(ROWS))
def test_each_seal_is_centred_over_its_name_the_last_over_the_date_apart_in_the_type_area(
    stamped, count
):
    letter, pdf = stamped[count]
    lines = [name for row in letter.sealed_rows for name in row.names]
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = _last_page_with_seals(document)
        date = word_area(page, letter.date_text)
        names = [
            name_area(page, organ, name_lines, above=date.top)
            for organ, name_lines in zip(letter.signing_organs, lines, strict=True)
        ]
        seals_ = seal_areas(page)
        text_bottom = word_area(page, "非常感谢您的提案。").bottom
        odd = page.page_number % 2
    assert len(seals_) == count
    last_row = [n for n in names if abs(n.bottom - names[-1].bottom) < 1]
    for seal, name in zip(seals_, names, strict=True):
        assert (
            abs(seal.x1 - seal.x0 - 42 * MM) < 1.5 and abs(seal.bottom - seal.top - 42 * MM) < 1.5
        )
        (sx, sy), (nx, ny) = seal.centre, name.centre
        # Upright and centred over its own name, well inside it; what the seal presses (the
        # name, or the name and the date on the row with the date) a little below its centre.
        assert abs(sx - nx) < 1 and ((sx - nx) ** 2 + (sy - ny) ** 2) ** 0.5 < RADIUS / 2
        pressed = _join([name, date]) if name in last_row else name
        assert sy <= pressed.centre[1] + 1 and sy < name.bottom
    # The last one presses its name and the date.
    (sx, sy), (dx, dy) = seals_[-1].centre, date.centre
    assert ((sx - dx) ** 2 + (sy - dy) ** 2) ** 0.5 < RADIUS - 5
    assert abs(sx - names[-1].centre[0]) < 1
    # Rows: the seals of a row level, first organ first; no two seals overlap or touch.
    for a, b in itertools.pairwise(seals_):
        if abs(a.top - b.top) < 1:
            assert b.x0 - a.x1 >= 1.5 * MM
        else:
            assert b.top - a.bottom >= 1.5 * MM
    for a, b in itertools.combinations(seals_, 2):
        (ax, ay), (bx, by) = a.centre, b.centre
        assert ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 > 2 * RADIUS + 1
    # Inside the type area (28 mm from the binding side, 26 mm from the other); the first
    # row's top within a line of the text above it, never on it.
    left, right = (28 * MM, 210 * MM - 26 * MM) if odd else (26 * MM, 210 * MM - 28 * MM)
    assert all(left - 0.5 <= s.x0 and s.x1 <= right + 0.5 for s in seals_)
    assert text_bottom < seals_[0].top <= text_bottom + LINE


def test_an_unsealed_joint_letter_still_stacks_its_organs_one_a_line():
    letter = replace(sealed_joint(3), sealed=False)
    assert letter.sealed_rows == ()
    pdf = render_letter_pdf(letter)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[-1]
        date = word_area(page, letter.date_text)
        names = [name_area(page, o, (o,), above=date.top) for o in letter.signing_organs]
    assert len({round(n.x0) for n in names}) == 1  # one under the other, left-aligned
    for a, b in itertools.pairwise([*names, date]):
        assert abs(b.top - a.top - LINE) < 1
    # The flag off renders what it always did.
    assert pdf == render_letter_pdf(build_joint_letter(signature_organs=ORGANS))


def test_a_single_organ_letter_prints_the_same_sealed_or_not():
    letter = seed_letter("001")
    assert replace(letter, sealed=True).sealed_rows == ()
    pdf = render_letter_pdf(letter)
    assert render_letter_pdf(replace(letter, sealed=True)) == pdf
    where = placement.seal_placement(pdf, (letter.signature_organ,), letter.date_text)
    assert len(where.boxes) == 1


def test_a_long_name_breaks_after_its_place_to_fit_its_column():
    assert seal_name_lines("上海市普陀区财政局", 8) == ("上海市普陀区", "财政局")
    assert seal_name_lines("上海市普陀区发展和改革委员会", 8) == (
        "上海市普陀区",
        "发展和改革委员会",
    )
    assert seal_name_lines("上海市普陀区发展和改革委员会", 14) == ("上海市普陀区发展和改革委员会",)
    assert seal_name_lines("中华人民共和国国家发展和改革委员会", 8) == (
        "中华人民共和",
        "国国家发展和",
        "改革委员会",
    )
    seven = (*NAMES, "上海市普陀区民政局", "上海市普陀区卫生健康委员会")
    rows = replace(sealed_joint(2), signature_organs=seven).sealed_rows
    assert [len(row.names) for row in rows] == [3, 2, 2] and [r.lines for r in rows] == [2, 2, 2]


def test_seals_that_would_not_fit_the_names_are_refused_with_the_reason():
    # Five organs stacked one a line (rendered without seals): five seals do not fit a row.
    letter = replace(sealed_joint(5), sealed=False)
    with pytest.raises(placement.SignatureNotFound, match="do not fit in one row"):
        placement.seal_placement(render_letter_pdf(letter), NAMES, letter.date_text)
    # An organ the letter does not sign.
    letter = sealed_joint(2)
    with pytest.raises(placement.SignatureNotFound, match="no signature block"):
        placement.seal_placement(
            render_letter_pdf(letter), (*NAMES[:1], "上海市普陀区民政局"), letter.date_text
        )


@pytest.mark.django_db
def test_a_stored_joint_letter_is_rendered_sealed_with_its_names_side_by_side(
    signed, unit_a, unit_b, keys_dir, media, monkeypatch
):
    """Signing renders a joint letter with seals again as sealed: the names side by side,
    each unit's seal over its own name."""
    letter_for = stamping.letter_for
    organs = (unit_a.organ_name, unit_b.organ_name)

    def joint_letter_for(obj, **kwargs):
        return replace(letter_for(obj, **kwargs), signature_organs=organs)

    monkeypatch.setattr(stamping, "letter_for", joint_letter_for)
    for unit in (unit_a, unit_b):
        _seal(unit)
    rwf.store_signed_pdf("reply", signed.pk)
    with Reply.objects.get(pk=signed.pk).pdf.open("rb") as handle:
        data = handle.read()
    assert pades.verify_pdf(data).intact
    with pdfplumber.open(io.BytesIO(data)) as document:
        page = _last_page_with_seals(document)
        seals_ = seal_areas(page)
        date = word_area(page, letter_for(signed, draft=False).date_text)
        names = [name_area(page, o, (o,), above=date.top) for o in organs]
    assert len(seals_) == 2
    assert abs(names[0].top - names[1].top) < 1 and names[0].x1 < names[1].x0
    for seal, name in zip(seals_, names, strict=True):
        assert abs(seal.centre[0] - name.centre[0]) < 1


def _seal(unit: Unit) -> None:
    from django.core.files.base import ContentFile

    from signing.models import UnitSeal

    seal = UnitSeal(unit=unit, kind=UnitSeal.Kind.PNG)
    seal.image.save("seal.png", ContentFile(artwork.draw_seal(unit.organ_name)))
