"""PAdES signatures on the signed letter, and their verification (pyHanko).

Each seal is a visible signature: its field's widget is the seal's box and its appearance the
seal picture, so what a reader sees and what a validator checks are the same object. A joint
letter carries one signature per sealed organ, each an incremental update of the one before;
a letter without any seal carries one invisible signature. The rendered PDF/A-2b is the base
revision and is never rewritten (incremental updates only), so it stays PDF/A-2b.

PAdES B-B; B-T when ``SIGNING_TSA_URL`` names a timestamp server (RFC 3161).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image
from pyhanko.pdf_utils import images
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext

from signing import keys
from signing.placement import Box


@dataclass(frozen=True)
class SealedSignature:
    """One signature to add: whose key, which field, and the seal it shows (if any)."""

    source: keys.KeySource
    field_name: str
    page: int = 0
    box: Box | None = None
    picture: Image.Image | None = None
    reason: str = ""


@dataclass(frozen=True)
class SignatureReport:
    """What a reader is told about one signature."""

    field_name: str
    signer: str
    signed_at: datetime.datetime | None
    intact: bool  # the signed bytes are unchanged and the signature is mathematically valid
    covers_document: bool  # nothing but allowed updates (later signatures) came after it
    whole_file: bool  # it covers every byte of the file
    trusted: bool  # the signer's certificate chains to a configured root
    timestamped: bool
    summary: str


@dataclass(frozen=True)
class VerifyResult:
    signatures: tuple[SignatureReport, ...]
    error: str = ""

    @property
    def intact(self) -> bool:
        """Every signature is valid, and the last one covers every byte of the file: even a
        comment appended after it makes the file another one."""
        return (
            bool(self.signatures)
            and all(s.intact and s.covers_document for s in self.signatures)
            and self.signatures[-1].whole_file
        )

    @property
    def trusted(self) -> bool:
        return self.intact and all(s.trusted for s in self.signatures)


def _timestamper() -> timestamps.TimeStamper | None:
    url = getattr(settings, "SIGNING_TSA_URL", "")
    return timestamps.HTTPTimeStamper(url) if url else None


def sign_pdf(data: bytes, signatures: list[SealedSignature]) -> bytes:
    """``data`` with the signatures appended, in order, each as an incremental update."""
    for item in signatures:
        data = _sign_once(data, item)
    return data


def _sign_once(data: bytes, item: SealedSignature) -> bytes:
    signer = keys.load_signer(item.source)
    meta = signers.PdfSignatureMetadata(
        field_name=item.field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=item.reason or None,
        use_pades_lta=False,
    )
    box = item.box.as_tuple() if item.box else None
    spec = fields.SigFieldSpec(
        sig_field_name=item.field_name,
        on_page=item.page,
        box=box,
        # Printed with the page, never hidden or toggled (PDF/A asks the print flag).
        empty_field_appearance=False,
    )
    style = None
    if item.picture is not None and box is not None:
        style = StaticStampStyle(
            background=images.PdfImage(item.picture),
            border_width=0,
            background_opacity=1.0,
        )
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    # pyHanko would add itself to the Info /Producer and rewrite the XMP's differently, which
    # PDF/A forbids (§6.6.2.3.1: the two must agree); the base revision's metadata stays as is.
    writer._update_meta = lambda: None  # type: ignore[method-assign]
    pdf_signer = signers.PdfSigner(
        meta, signer, timestamper=_timestamper(), stamp_style=style, new_field_spec=spec
    )
    out = pdf_signer.sign_pdf(writer)
    return out.getvalue()


def page_count(data: bytes) -> int:
    try:
        return int(PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"])
    except Exception:
        return 0


def verify_pdf(data: bytes) -> VerifyResult:
    """Every signature of ``data`` checked: intact, covering the file, by whom, when, trusted."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # not a PDF, or one pyHanko cannot read
        return VerifyResult((), error=f"{type(exc).__name__}: {exc}"[:300])
    roots = keys.trust_roots()
    reports: list[SignatureReport] = []
    for signature in embedded:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        try:
            status = validate_pdf_signature(signature, context)
        except Exception as exc:
            return VerifyResult(tuple(reports), error=f"{type(exc).__name__}: {exc}"[:300])
        reports.append(_report(signature.field_name, status))
    return VerifyResult(tuple(reports))


def _report(field_name: str, status) -> SignatureReport:
    coverage = status.coverage
    covers = (
        coverage is not None
        and coverage.name in ("ENTIRE_FILE", "ENTIRE_REVISION")
        and (coverage.name == "ENTIRE_FILE" or _only_allowed_changes(status))
    )
    signer = (
        status.signing_cert.subject.native.get("common_name", "") if status.signing_cert else ""
    )
    when = status.signer_reported_dt
    stamp = getattr(status, "timestamp_validity", None)
    if stamp is not None:
        when = stamp.timestamp
    return SignatureReport(
        field_name=field_name,
        signer=signer,
        signed_at=when,
        intact=bool(status.intact and status.valid),
        covers_document=covers,
        whole_file=coverage is not None and coverage.name == "ENTIRE_FILE",
        trusted=bool(status.trusted),
        timestamped=stamp is not None,
        summary=status.summary(),
    )


def _only_allowed_changes(status) -> bool:
    """Later revisions only added signatures (pyHanko's difference analysis)."""
    level = getattr(status, "modification_level", None)
    return level is not None and level.name in ("NONE", "LTA_UPDATES", "FORM_FILLING")
