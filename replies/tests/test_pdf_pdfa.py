"""PDF/A-2b conformance of the letter PDF: the rules of ISO 19005-2 our output can break.

veraPDF is in neither PyPI nor Debian, so the checks are written here with pypdf, rule by rule:

- colours against the output intent (§6.2.4.3): with the sRGB intent WeasyPrint writes, no
  ``/DeviceCMYK`` (``k``/``K`` operators, ``cs``/``CS`` with it, images, shadings) unless the
  page defines a ``DefaultCMYK``; a CMYK intent would forbid ``/DeviceRGB`` the same way;
- every font embedded (§6.2.11.4.1) with its widths (§6.2.11.5);
- the XMP metadata saying what the Info dictionary says (§6.6.2.3.1);
- no transparency group without its blending colour space (§6.2.10, and §6.2.4.3 again when the
  group's space is device-dependent).

The checker must pass on every format the renderer writes and fail on a PDF painted in
DeviceCMYK, as letters were before issue 20.
"""

from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, IndirectObject, NameObject
from weasyprint import HTML

from replies.letter import Contact, Letter, LetterFormat
from replies.pdf import render_letter_pdf
from replies.tests.conftest import build_draft_letter, build_joint_letter, hand_built_seed

_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_XMP_OF_INFO = {
    "/Title": ("{http://purl.org/dc/elements/1.1/}title", "alt"),
    "/Author": ("{http://purl.org/dc/elements/1.1/}creator", "seq"),
    "/Subject": ("{http://purl.org/dc/elements/1.1/}description", "alt"),
    "/Keywords": ("{http://ns.adobe.com/pdf/1.3/}Keywords", "text"),
    "/Producer": ("{http://ns.adobe.com/pdf/1.3/}Producer", "text"),
    "/Creator": ("{http://ns.adobe.com/xap/1.0/}CreatorTool", "text"),
}
_DEVICE_OPERATORS = {
    b"k": "/DeviceCMYK",
    b"K": "/DeviceCMYK",
    b"rg": "/DeviceRGB",
    b"RG": "/DeviceRGB",
}


def pdfa_violations(pdf: bytes) -> list[str]:
    """The PDF/A-2b rules ``pdf`` breaks, each as a short sentence (empty when it conforms)."""
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    problems: list[str] = []
    intent = _intent_space(catalog)
    if intent is None:
        problems.append("no PDF/A output intent")
    seen: set[int] = set()
    for number, page in enumerate(reader.pages, 1):
        spaces = _resource_spaces(page, reader, seen)
        for space, where in spaces:
            if intent and space in ("/DeviceCMYK", "/DeviceRGB") and space != intent:
                default = "/Default" + space.removeprefix("/Device")
                if not _has_default(page, default):
                    problems.append(f"page {number}: {space} in {where} with a {intent} intent")
        problems += [f"page {number}: {p}" for p in _group_problems(page, intent)]
    problems += _font_problems(reader)
    problems += _xmp_problems(reader, catalog)
    return problems


def _intent_space(catalog) -> str | None:
    for intent in catalog.get("/OutputIntents", []):
        intent = intent.get_object()
        if intent.get("/S") != "/GTS_PDFA1":
            continue
        channels = intent["/DestOutputProfile"].get_object().get("/N")
        return {1: "/DeviceGray", 3: "/DeviceRGB", 4: "/DeviceCMYK"}.get(channels)
    return None


def _has_default(page, name: str) -> bool:
    resources = page.get("/Resources", {})
    return name in resources.get("/ColorSpace", {})


def _base_space(space) -> str:
    space = space.get_object() if isinstance(space, IndirectObject) else space
    if isinstance(space, list):
        family = space[0]
        if family in ("/ICCBased", "/CalRGB", "/CalGray", "/Lab"):
            return str(family)
        if family == "/Indexed":
            return _base_space(space[1])
        if family in ("/Separation", "/DeviceN"):
            return _base_space(space[2])
        if family == "/Pattern":
            return _base_space(space[1]) if len(space) > 1 else "/Pattern"
        return str(family)
    return str(space)


def _resource_spaces(holder, reader, seen: set[int]) -> list[tuple[str, str]]:
    """Every colour space a page or form XObject paints with: its content's operators, its
    named colour spaces, images, shadings, patterns and nested forms."""
    found: list[tuple[str, str]] = []
    resources = holder.get("/Resources")
    resources = resources.get_object() if resources is not None else DictionaryObject()
    named = {str(k): _base_space(v) for k, v in resources.get("/ColorSpace", {}).items()}
    contents = holder.get_contents() if hasattr(holder, "get_contents") else holder
    if contents is not None:
        for operands, operator in ContentStream(contents, reader).operations:
            if operator in _DEVICE_OPERATORS:
                found.append((_DEVICE_OPERATORS[operator], f"operator {operator.decode()}"))
            elif operator in (b"cs", b"CS") and operands:
                name = str(operands[0])
                found.append((named.get(name, name), f"colour space {name}"))
    for name, space in named.items():
        found.append((space, f"colour space resource {name}"))
    for name, shading in resources.get("/Shading", {}).items():
        found.append((_base_space(shading.get_object()["/ColorSpace"]), f"shading {name}"))
    for name, pattern in resources.get("/Pattern", {}).items():
        pattern = pattern.get_object()
        if pattern.get("/PatternType") == 2:
            found.append((_base_space(pattern["/Shading"].get_object()["/ColorSpace"]), name))
        elif pattern.indirect_reference and pattern.indirect_reference.idnum not in seen:
            seen.add(pattern.indirect_reference.idnum)
            found += _resource_spaces(pattern, reader, seen)
    for name, xobject in resources.get("/XObject", {}).items():
        ref = xobject.indirect_reference if hasattr(xobject, "indirect_reference") else None
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Image" and "/ColorSpace" in xobject:
            found.append((_base_space(xobject["/ColorSpace"]), f"image {name}"))
        elif xobject.get("/Subtype") == "/Form":
            key = ref.idnum if ref is not None else id(xobject)
            if key not in seen:
                seen.add(key)
                found += _resource_spaces(xobject, reader, seen)
    return found


def _group_problems(page, intent: str | None) -> list[str]:
    """Transparency groups (the page's and its forms') without a blending colour space, or with
    a device space the intent does not cover."""
    problems = []
    holders = [page]
    resources = page.get("/Resources", {})
    holders += [x.get_object() for x in resources.get("/XObject", {}).values()]
    for holder in holders:
        group = holder.get("/Group")
        if group is None:
            continue
        group = group.get_object()
        if group.get("/S") != "/Transparency":
            continue
        if "/CS" not in group:
            problems.append("transparency group without a blending colour space")
        elif intent and _base_space(group["/CS"]) in {"/DeviceCMYK", "/DeviceRGB"} - {intent}:
            problems.append(f"transparency group blends in {_base_space(group['/CS'])}")
    return problems


def _font_problems(reader: PdfReader) -> list[str]:
    problems = []
    fonts: dict[int, DictionaryObject] = {}
    for page in reader.pages:
        for ref in page.get("/Resources", {}).get("/Font", {}).values():
            fonts[ref.idnum] = ref.get_object()
    for font in fonts.values():
        name = str(font.get("/BaseFont", "?"))
        subtype = font.get("/Subtype")
        if subtype == "/Type3":
            continue
        if subtype == "/Type0":
            (descendant,) = font["/DescendantFonts"]
            descendant = descendant.get_object()
            if "/W" not in descendant and "/DW" not in descendant:
                problems.append(f"font {name} has no widths")
            descriptor = descendant["/FontDescriptor"].get_object()
        else:
            if "/Widths" not in font:
                problems.append(f"font {name} has no widths")
            descriptor = font["/FontDescriptor"].get_object()
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            problems.append(f"font {name} is not embedded")
    return problems


def _xmp_problems(reader: PdfReader, catalog) -> list[str]:
    if "/Metadata" not in catalog:
        return ["no XMP metadata"]
    root = ET.fromstring(catalog["/Metadata"].get_object().get_data())
    descriptions = root.iter(f"{_RDF}Description")
    xmp: dict[str, str] = {}
    for description in descriptions:
        for key, value in description.attrib.items():
            xmp[key] = value
        for child in description:
            items = [li.text or "" for li in child.iter(f"{_RDF}li")]
            xmp[child.tag] = (
                items[0] if len(items) == 1 else ("、".join(items) if items else child.text or "")
            )
    problems = []
    if xmp.get("{http://www.aiim.org/pdfa/ns/id/}part") != "2":
        problems.append("XMP does not declare PDF/A-2")
    info = reader.trailer.get("/Info")
    info = info.get_object() if info is not None else {}
    for key, (tag, _kind) in _XMP_OF_INFO.items():
        if key in info and xmp.get(tag) != str(info[key]):
            problems.append(f"Info {key} {str(info[key])!r} is not the XMP's {xmp.get(tag)!r}")
    for key, tag in (("/CreationDate", "CreateDate"), ("/ModDate", "ModifyDate")):
        if key in info and f"{{http://ns.adobe.com/xap/1.0/}}{tag}" not in xmp:
            problems.append(f"Info {key} without xmp:{tag}")
    return problems


# --- The letters ----------------------------------------------------------------------------


def _letter_format(**changes) -> Letter:
    return replace(hand_built_seed("001"), **changes)


LETTERS = {
    "document": lambda: hand_built_seed("001"),
    "letter": lambda: _letter_format(format=LetterFormat.LETTER),
    "joint": build_joint_letter,
    "joint-letter-format": lambda: build_joint_letter(format=LetterFormat.LETTER),
    "draft": build_draft_letter,
    "no-organ": lambda: hand_built_seed("003"),
}


@pytest.fixture(scope="module", params=sorted(LETTERS))
def rendered(request) -> bytes:
    return render_letter_pdf(LETTERS[request.param]())


def test_letters_conform_to_pdfa_2b(rendered):
    assert pdfa_violations(rendered) == []


def test_red_is_painted_in_srgb_not_devicecmyk(rendered):
    reader = PdfReader(io.BytesIO(rendered))
    operators = {
        op
        for page in reader.pages
        for _o, op in ContentStream(page.get_contents(), reader).operations
    }
    assert b"k" not in operators and b"K" not in operators


def _html_pdf(style: str, **options) -> bytes:
    html = f'<html lang="zh-CN"><p style="{style}">上海市普陀区发展和改革委员会</p></html>'
    return HTML(string=html).write_pdf(pdf_variant="pdf/a-2b", **options)


def test_check_fails_on_a_pdf_painted_in_devicecmyk():
    """What letters were before issue 20: the red in DeviceCMYK under an sRGB intent."""
    problems = pdfa_violations(_html_pdf("color: device-cmyk(0 0.8 0.8 0)"))
    assert any("/DeviceCMYK" in problem for problem in problems), problems
    assert pdfa_violations(_html_pdf("color: rgb(255, 51, 51)")) == []


def test_check_fails_on_unembedded_fonts_bad_xmp_and_groups_without_space():
    pdf = _html_pdf("color: black")
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    page = writer.pages[0]
    for ref in page["/Resources"]["/Font"].values():
        font = ref.get_object()
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        descriptor = descendant["/FontDescriptor"].get_object()
        for key in ("/FontFile", "/FontFile2", "/FontFile3"):
            descriptor.pop(key, None)
    page[NameObject("/Group")] = DictionaryObject({NameObject("/S"): NameObject("/Transparency")})
    writer.add_metadata({"/Title": "另一个标题"})
    out = io.BytesIO()
    writer.write(out)
    problems = pdfa_violations(out.getvalue())
    assert any("not embedded" in p for p in problems), problems
    assert any("blending colour space" in p for p in problems), problems
    assert any("/Title" in p for p in problems), problems


def test_pdf_is_tagged_for_accessibility(rendered):
    """PDF/UA structure: WeasyPrint 70 tags the letter (``pdf_tags``), marked as such."""
    reader = PdfReader(io.BytesIO(rendered))
    catalog = reader.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    tree = catalog["/StructTreeRoot"].get_object()
    assert tree["/K"]
    assert re.search(rb"/P <</MCID \d+>> BDC|/MCID", reader.pages[0].get_contents().get_data())


def test_a_letter_with_every_field_conforms():
    letter = _letter_format(
        signer="李䶮",
        contact=Contact(person="王𠮷", phone="1", address="路", postcode="200000"),
        cc=("区政协提案委",),
        date=datetime.date(2024, 1, 2),
    )
    assert pdfa_violations(render_letter_pdf(letter)) == []
