from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "proposals"
    verbose_name = _("提案")

    def ready(self) -> None:
        from proposals import (
            checks,  # noqa: F401  (registers system checks)
            security,
        )

        security.connect()
