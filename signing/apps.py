from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def seal_and_sign(obj, kind: str, data: bytes) -> bytes:
    """The hook ``replies.rendering`` runs on a signed letter's PDF; pyHanko is loaded on the
    first letter, not by every process that starts Django."""
    from signing.stamping import seal_and_sign as run

    return run(obj, kind, data)


def check_served_letter(obj, kind: str, stored) -> str:
    """The check ``replies.serving`` runs on a stored letter's bytes before serving them
    (``signing.serving``); like the hook above, loaded on the first letter served."""
    from signing.serving import check_served_letter as run

    return run(obj, kind, stored)


class SigningConfig(AppConfig):
    """Seals, PAdES signatures and the Word copy of letters; built on ``replies``, which never
    names this app: the hooks that seal and sign a letter's PDF, and check it when it is
    served, are installed here."""

    name = "signing"
    verbose_name = _("印章与电子签名")

    def ready(self) -> None:
        from replies import rendering, serving

        if seal_and_sign not in rendering.SIGNED_PDF_HOOKS:
            rendering.SIGNED_PDF_HOOKS.append(seal_and_sign)
        if check_served_letter not in serving.STORED_PDF_CHECKS:
            serving.STORED_PDF_CHECKS.append(check_served_letter)
