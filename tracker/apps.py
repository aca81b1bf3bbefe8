from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracker"
    verbose_name = _("提案办理")

    def ready(self) -> None:
        # The base apps announce their events (proposals.events); the notices are ours.
        from proposals import events
        from tracker.mail import notices

        for event, handler in notices.HANDLERS.items():
            events.register(event, handler)
        # The tasks register themselves as the senders of the mail ledgers
        # (tracker.mail.ledger.enqueue): imported here, every process has them before it queues.
        # Members' invitations and notices (issue 21) register theirs the same way.
        import tracker.members.tasks
        import tracker.tasks  # noqa: F401
