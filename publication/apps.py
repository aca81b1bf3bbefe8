from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicationConfig(AppConfig):
    """The public side of published replies: pages, search, redaction, the public PDF.

    ``publication`` sits above ``replies`` (``replies`` never imports it): the workflow's
    publish/send steps call the hooks registered here, inside their own transaction.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "publication"
    verbose_name = _("政务公开")

    def ready(self) -> None:
        from publication import embedding, hooks  # noqa: F401  (embedding: its system check)

        hooks.register()
