"""``manage.py verify_letter FILE.pdf``: who signed the letter, when, and whether it is intact.

Exit status 0 only when every signature is intact, the last covers the whole file, and the
signers' certificates chain to a trusted root (``SIGNING_KEYS_DIR/chain.pem``); 1 when the file
was changed or carries no signature; 2 when it is intact but signed by an untrusted certificate.
``--stored`` checks every stored signed letter instead and records the answers (the dashboard
shows the ones that fail).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from signing.checks import check_stored_letters, explain
from signing.pades import verify_pdf


class Command(BaseCommand):
    help = "Verify the PAdES signatures of a signed letter (exit 0 only when intact)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", help="the PDF to verify")
        parser.add_argument(
            "--stored", action="store_true", help="check every stored signed letter"
        )

    def handle(self, *args, file: str | None = None, stored: bool = False, **options) -> None:
        if stored:
            counts = check_stored_letters()
            self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "-")
            if set(counts) - {"intact"}:
                raise SystemExit(1)
            return
        if not file:
            raise CommandError("give a PDF file, or --stored")
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from exc
        result = verify_pdf(data)
        for signature in result.signatures:
            when = (
                timezone.localtime(signature.signed_at).isoformat(timespec="seconds")
                if signature.signed_at
                else "?"
            )
            self.stdout.write(
                f"{signature.field_name}: signer={signature.signer} time={when} "
                f"intact={'yes' if signature.intact else 'NO'} "
                f"whole_file={'yes' if signature.covers_document else 'NO'} "
                f"trusted={'yes' if signature.trusted else 'no'}"
                f"{' timestamped' if signature.timestamped else ''}"
            )
        verdict = "intact" if result.intact else "CHANGED or unsigned"
        self.stdout.write(f"{verdict}: {explain(result)}")
        if not result.intact:
            raise SystemExit(1)
        if not result.trusted:
            raise SystemExit(2)
