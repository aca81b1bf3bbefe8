from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def seal_and_sign(obj, kind: str, data: bytes) -> bytes:
    """The hook ``replies.rendering`` runs on a signed letter's PDF; pyHanko is loaded on the
    first letter, not by every process that starts Django."""
    from signing.stamping import seal_and_sign as run

    return run(obj, kind, data)


class SigningConfig(AppConfig):
    """Seals, PAdES signatures and the Word copy of letters; built on ``replies``, which never
    names this app: the hook that seals and signs a letter's PDF is installed here."""

    name = "signing"
    verbose_name = _("印章与电子签名")

    def ready(self) -> None:
        from replies import rendering

        if seal_and_sign not in rendering.SIGNED_PDF_HOOKS:
            rendering.SIGNED_PDF_HOOKS.append(seal_and_sign)
