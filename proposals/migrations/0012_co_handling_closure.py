"""Co-handling (会办) assignments that close (docs/domain.md, Assignment; issue 19).

1. A new assignment state, ``closed_without_opinion`` 未提供会办意见 (the column widens to 24).
2. Co-handling assignments still open on a proposal whose lead unit has already replied, or
   which is closed, end in that state — the same move ``mark_assignment_replied`` makes from
   now on — each with its audit row, sealed at the end of the chain (``proposals.audit``).
3. Co-handling units never owed a first contact with the proposers (沟通见面 is the lead's and
   the separate units' duty): their open first-contact due dates go. Met ones stay as history.
   The reminder ledger's references to due dates are not constraints (tracker 0001): a
   reminder pointing at a removed due date reads as no longer due.

Going back keeps the rows as they are (the state stays a valid value of the wider column, and
the audit trail is append-only); only the column's definition returns.
"""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

OPEN = ("pending", "accepted", "return_requested")
NOTE = "主办单位已答复，未收到会办意见（数据迁移）"


def close_stale_co_assignments(apps, schema_editor):
    from proposals import audit

    Assignment = apps.get_model("proposals", "Assignment")
    Transition = apps.get_model("proposals", "Transition")
    DueDate = apps.get_model("proposals", "DueDate")
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias

    lead_replied = Assignment.objects.using(db).filter(
        proposal_id=models.OuterRef("proposal_id"), role="lead", state="replied"
    )
    stale = list(
        Assignment.objects.using(db)
        .filter(role="co", state__in=OPEN)
        .filter(Q(proposal__status__in=("replied", "closed")) | Q(models.Exists(lead_replied)))
        .order_by("pk")
        .values_list("pk", "proposal_id", "state")
    )
    if stale:
        content_type, _ = ContentType.objects.using(db).get_or_create(
            app_label="proposals", model="assignment"
        )
        now = timezone.now()
        Assignment.objects.using(db).filter(pk__in=[pk for pk, _, _ in stale]).update(
            state="closed_without_opinion"
        )
        audit.append(
            [
                Transition(
                    at=now,
                    actor_id=None,
                    content_type_id=content_type.pk,
                    object_id=pk,
                    proposal_id=proposal_id,
                    verb="close_without_opinion",
                    from_state=state,
                    to_state="closed_without_opinion",
                    note=NOTE,
                )
                for pk, proposal_id, state in stale
            ],
            using=db,
        )
    DueDate.objects.using(db).filter(
        assignment__role="co", clock="first_contact", completed_on__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("proposals", "0011_transition_hash_chain"),
    ]

    operations = [
        migrations.AlterField(
            model_name="assignment",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "待签收"),
                    ("accepted", "办理中"),
                    ("return_requested", "申请退回"),
                    ("withdrawn", "已退回"),
                    ("replied", "已答复"),
                    ("opinion_sent", "已会办"),
                    ("closed_without_opinion", "未提供会办意见"),
                ],
                db_index=True,
                default="pending",
                editable=False,
                max_length=24,
                verbose_name="状态",
            ),
        ),
        migrations.RunPython(close_stale_co_assignments, migrations.RunPython.noop),
    ]
