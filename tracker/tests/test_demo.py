"""``manage.py load_demo``: the seed proposals, every state, logins, and a second run that
changes nothing."""

import datetime
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from proposals.models import (
    Assignment,
    AssignmentState,
    ContactRecord,
    DueDate,
    Extension,
    Proposal,
    ProposalStatus,
    Session,
    Transition,
    User,
)
from replies.models import CoOpinion, Feedback, Reply, ReplyState
from tracker.demo import (
    COMMITTEE_GROUP,
    CURRENT_SESSION,
    DEMO_TODAY,
    DEMO_USERS,
    SEED_PROPOSALS,
    SUPERVISION_GROUP,
    UNITS,
)
from tracker.mail import members as members_mail
from tracker.models import MemberNotice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list]:
    """Every row of every model, so a second run can be shown to change nothing."""
    return {
        model._meta.label: sorted(map(repr, model.objects.values()))
        for model in apps.get_models()
        if model._meta.managed
    }


def session(district: str, term: int, meeting: int) -> Session:
    return Session.objects.get(district=district, term=term, meeting=meeting)


def test_second_run_creates_and_changes_nothing():
    first_output = load()
    before = snapshot()
    counts = {label: len(rows) for label, rows in before.items()}
    assert counts["proposals.Proposal"] >= 40
    assert counts["proposals.Unit"] == len(UNITS)

    second_output = load()

    assert snapshot() == before
    assert "无（数据已存在，未作改动）" in second_output
    for spec in DEMO_USERS:
        assert spec.username in first_output
        assert spec.password in first_output
    for path in ("/admin/", "/my/", "/api/docs/"):
        assert path in first_output


def test_the_demo_history_is_announced_to_no_member():
    load()
    assert members_mail.sweep() == []
    assert not MemberNotice.objects.exists()


def test_seed_proposals_keep_their_real_numbers():
    load()
    expected = {
        ("长宁", 15, 2): "第061号",
        ("长宁", 15, 3): "第050号",
        ("普陀", 15, 2): "第152045号",
        ("普陀", 14, 5): "第145054号",
    }
    for (district, term, meeting), number in expected.items():
        proposal = Proposal.objects.get(session=session(district, term, meeting), number=number)
        assert proposal.status == ProposalStatus.REPLIED
        lead = proposal.assignments.get(role=Assignment.Role.LEAD)
        assert lead.state == AssignmentState.REPLIED
    assert {s.number for s in SEED_PROPOSALS} == set(expected.values())

    # The sessions' counters stay at the highest serial in use, so the next filing follows it.
    assert session("长宁", 15, 2).last_serial == 61
    assert session("普陀", 15, 2).last_serial == 45


def test_proposal_061_is_led_by_the_investment_office_with_four_co_units():
    load()
    proposal = Proposal.objects.get(session=session("长宁", 15, 2), number="第061号")
    assert proposal.title == "关于新形势下开展科学招商、精准引资的建议"
    assert [p.name for p in proposal.proposers()] == ["沈汕", "施彧", "陈铸", "郑立新"]
    lead = proposal.assignments.get(role=Assignment.Role.LEAD)
    assert lead.unit.name == "长宁区投资促进办公室"
    assert lead.unit.organ_name == "上海市长宁区投资促进办公室"
    co = proposal.assignments.filter(role=Assignment.Role.CO)
    assert {a.unit.short_name for a in co} == {"长宁区发改委", "区商务委", "区科委", "区规资局"}
    assert {a.unit.name for a in co} == {
        "长宁区发展和改革委员会",
        "长宁区商务委员会",
        "长宁区科学技术委员会",
        "长宁区规划和自然资源局",
    }


def test_every_status_and_state_appears():
    load()
    statuses = set(Proposal.objects.values_list("status", flat=True))
    assert statuses >= set(ProposalStatus.values)
    states = set(Assignment.objects.values_list("state", flat=True))
    assert states >= set(AssignmentState.values)
    assert set(Reply.objects.values_list("state", flat=True)) >= set(ReplyState.values)
    assert set(CoOpinion.objects.values_list("state", flat=True)) >= {"draft", "delivered"}
    assert set(Feedback.objects.values_list("rating", flat=True)) >= {
        "satisfied",
        "not_satisfied",
    }

    dispositions = set(
        Proposal.objects.filter(status=ProposalStatus.NOT_FILED).values_list(
            "disposition", flat=True
        )
    )
    assert dispositions == set(Proposal.Disposition.values)
    assert not Proposal.objects.filter(
        status=ProposalStatus.MERGED, merged_into__isnull=True
    ).exists()
    assert Assignment.objects.filter(role=Assignment.Role.SEPARATE).count() >= 2
    assert Proposal.objects.filter(is_key=True).exists()
    assert ContactRecord.objects.exists()
    assert Extension.objects.exists()


def test_reply_deadlines_are_past_and_near_on_demo_today():
    load()
    open_replies = DueDate.objects.filter(
        clock=DueDate.Clock.REPLY,
        completed_on__isnull=True,
        assignment__state=AssignmentState.ACCEPTED,
    )
    assert open_replies.filter(due_on__lt=DEMO_TODAY).exists()
    assert open_replies.filter(
        due_on__gte=DEMO_TODAY, due_on__lte=DEMO_TODAY + datetime.timedelta(days=14)
    ).exists()
    assert not ContactRecord.objects.filter(contacted_on__gt=DEMO_TODAY).exists()


def test_every_demo_user_can_log_in(client, settings):
    settings.DEBUG = True  # their passwords are published: only with DEBUG (test_demo_passwords)
    load()
    for spec in DEMO_USERS:
        assert client.login(username=spec.username, password=spec.password), spec.username
        client.logout()


SEED_NUMBERS = {
    "001": ("普发改委〔2023〕14号", datetime.date(2023, 5, 8), "", "采纳解决"),
    "002": ("长发改〔2024〕19号", datetime.date(2024, 4, 25), "叶鹏举", "解决或采纳"),
    "003": ("普发改委〔2021〕11号", datetime.date(2021, 4, 30), "", "采纳解决"),
    "000": ("", datetime.date(2023, 6, 9), "游雁", "采纳"),
}


def test_the_seed_letters_become_signed_published_replies_whose_pdf_holds_their_text():
    from replies.legacy import read_published, text_from_pdf
    from replies.workflow import store_signed_pdf
    from tracker.demo.replies import SEED_REPLIES, SEEDS_DIR

    load()
    for spec in SEED_REPLIES:
        key = spec.source[:3]
        doc_number, signed_on, signer, label = SEED_NUMBERS[key]
        proposal = Proposal.objects.get(session__district=spec.district, number=spec.number)
        reply = Reply.objects.get(proposal=proposal)
        assert (reply.doc_number, reply.signed_on, reply.signer_name, reply.result_label) == (
            doc_number,
            signed_on,
            signer,
            label,
        )
        assert reply.state in {"published", "sent"}
        # On commit a Celery task renders it; tests run inside a transaction, so call it here.
        assert store_signed_pdf("reply", reply.pk)
        reply.refresh_from_db()
        with reply.pdf.open("rb") as fh:
            flat = "".join(text_from_pdf(fh.read()).split())
        seed = read_published((SEEDS_DIR / spec.source).read_text(encoding="utf-8")).letter
        for block in seed.body:
            assert "".join(block.text.split()) in flat, (key, block.text[:30])
        assert len(reply.pdf_sha256) == 64 and reply.pdf_size > 10_000


# --- The story: every date in its place, every text its own, every submitter a proposer ----

STAFF_OFFICES = ("committee", "supervision")


def _day(value: datetime.datetime | datetime.date) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date()
    return value


def _when(value: datetime.datetime) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"


def _story_end(proposal: Proposal) -> datetime.date:
    """The story's "today" for a proposal: its seed letter's publication, or DEMO_TODAY."""
    key = (proposal.session.district, proposal.session.term, proposal.session.meeting)
    if key == CURRENT_SESSION:
        return DEMO_TODAY
    reply = Reply.objects.get(proposal=proposal)
    return reply.published_on or reply.signed_on


def _stamps(proposal: Proposal) -> list[tuple[str, datetime.datetime | datetime.date]]:
    """Everything the proposal page, the admin history and /my/ date about the proposal."""
    rows: list[tuple[str, datetime.datetime | datetime.date | None]] = [
        ("proposal.created_at", proposal.created_at),
        ("proposal.updated_at", proposal.updated_at),
        ("proposal.submitted_at", proposal.submitted_at),
        ("proposal.filed_at", proposal.filed_at),
    ]
    rows += [("coproposer.confirmed_at", c.confirmed_at) for c in proposal.coproposer_links.all()]
    for t in proposal.transitions.select_related("content_type"):
        rows.append((f"{t.content_type.model}.{t.verb}", t.at))
    for a in proposal.assignments.all():
        rows += [
            ("assignment.created_at", a.created_at),
            ("assignment.accepted_at", a.accepted_at),
            ("assignment.assigned_on", a.assigned_on),
        ]
        for c in a.contacts.all():
            rows += [("contact.contacted_on", c.contacted_on), ("contact.created_at", c.created_at)]
        for d in a.due_dates.all():
            rows += [("duedate.start_on", d.start_on), ("duedate.completed_on", d.completed_on)]
        rows += [("extension.approved_at", e.approved_at) for e in a.extensions.all()]
    for letter in [
        *Reply.objects.filter(proposal=proposal),
        *CoOpinion.objects.filter(proposal=proposal),
    ]:
        name = type(letter).__name__.lower()
        rows += [
            (f"{name}.created_at", letter.created_at),
            (f"{name}.updated_at", letter.updated_at),
            (f"{name}.signed_at", letter.signed_at),
            (f"{name}.signed_on", letter.signed_on),
            (f"{name}.sent_at", getattr(letter, "sent_at", None)),
            (f"{name}.published_on", getattr(letter, "published_on", None)),
            (f"{name}.delivered_at", getattr(letter, "delivered_at", None)),
        ]
    rows += [
        ("feedback.received_at", f.received_at) for f in Feedback.objects.filter(proposal=proposal)
    ]
    return [(name, value) for name, value in rows if value is not None]


def _order_problems(proposal: Proposal) -> list[str]:
    """Steps that come before the steps they follow in the story."""
    problems = []
    transitions = list(proposal.transitions.select_related("content_type").order_by("id"))
    if not transitions:
        return problems

    def bad(what: str) -> None:
        problems.append(f"{proposal.number or proposal.title}: {what}")

    # Each object's steps, in the order the workflow took them, are dated in that order.
    last: dict[tuple[int, int], Transition] = {}
    for t in transitions:
        key = (t.content_type_id, t.object_id)
        before = last.get(key)
        if before is not None and t.at < before.at:
            bad(f"{t.verb} ({_when(t.at)}) before {before.verb} ({_when(before.at)})")
        last[key] = t

    mine = [t for t in transitions if t.content_type.model == "proposal"]
    first = {}
    for t in mine:
        first.setdefault(t.verb, t.at)
    if proposal.created_at > min(t.at for t in transitions):
        bad("created after its first step")
    if "submit" in first:
        submits = [t.at for t in mine if t.verb in {"submit", "resubmit"}]
        if proposal.submitted_at != submits[-1]:
            bad(f"submitted_at {proposal.submitted_at} is not its (re)submission {submits[-1]}")
        for c in proposal.coproposer_links.filter(confirmed_at__isnull=False):
            if c.confirmed_at > submits[-1]:
                bad(f"{c.proposer} confirmed after the (re)submission")
        for verb in ("return", "file", "not_file", "merge", "assign"):
            if verb in first and first[verb] < first["submit"]:
                bad(f"{verb} before submit")
    if "file" in first:
        if proposal.filed_at != first["file"]:
            bad(f"filed_at {proposal.filed_at} is not its filing {first['file']}")
        if "assign" in first and first["assign"] < first["file"]:
            bad("assigned before filed")

    by_object: dict[tuple[str, int], list[Transition]] = {}
    for t in transitions:
        by_object.setdefault((t.content_type.model, t.object_id), []).append(t)
    accepted_at = {}
    for a in proposal.assignments.all():
        steps = by_object.get(("assignment", a.pk), [])
        assign = next(t for t in steps if t.verb == "assign")
        if _day(assign.at) != a.assigned_on or a.created_at != assign.at:
            bad(f"{a.unit} assigned on {a.assigned_on}, recorded {assign.at} / {a.created_at}")
        if "file" in first and assign.at < first["file"]:
            bad(f"{a.unit} assigned before the proposal was filed")
        accept = next((t for t in steps if t.verb in {"accept", "refuse_reassignment"}), None)
        if a.accepted_at is not None:
            accepted_at[a.pk] = a.accepted_at
            if accept is None or a.accepted_at != accept.at:
                bad(f"{a.unit} accepted_at {a.accepted_at} is not its acceptance")
        logged = sorted(t.at for t in steps if t.verb == "log_contact")
        contacts = sorted(a.contacts.all(), key=lambda c: c.created_at)
        if logged != [c.created_at for c in contacts]:
            bad(
                f"{a.unit} contacts recorded at {[c.created_at for c in contacts]}, logged {logged}"
            )
        for c in contacts:
            if a.accepted_at is None or not (
                _day(a.accepted_at) <= c.contacted_on <= _day(c.created_at)
            ):
                bad(f"{a.unit} contact of {c.contacted_on} (accepted {a.accepted_at})")
        for d in a.due_dates.all():
            if d.start_on < a.assigned_on or (d.completed_on and d.completed_on < d.start_on):
                bad(f"{a.unit} {d.clock} from {d.start_on} completed {d.completed_on}")
        for e in a.extensions.all():
            if a.accepted_at is None or e.approved_at < a.accepted_at:
                bad(f"{a.unit} extended {e.approved_at} before it accepted")

    letters = [
        *Reply.objects.filter(proposal=proposal),
        *CoOpinion.objects.filter(proposal=proposal),
    ]
    for letter in letters:
        name = "reply" if isinstance(letter, Reply) else "coopinion"
        steps = by_object.get((name, letter.pk), [])
        at = {t.verb: t.at for t in steps}
        start = steps[0].at
        if letter.assignment_id not in accepted_at or start < accepted_at[letter.assignment_id]:
            bad(f"{name} {letter.pk} begun {start} before its unit accepted")
        if letter.created_at != start:
            bad(f"{name} {letter.pk} created {letter.created_at}, first step {start}")
        if "sign" in at and (
            letter.signed_at != at["sign"] or letter.signed_on != _day(at["sign"])
        ):
            bad(f"{name} {letter.pk} signed {letter.signed_at}, step {_when(at['sign'])}")
        if isinstance(letter, Reply):
            if "send" in at and letter.sent_at != at["send"]:
                bad(f"reply {letter.pk} sent_at {letter.sent_at}, step {at['send']}")
            if letter.sent_at and letter.signed_at and letter.sent_at < letter.signed_at:
                bad(f"reply {letter.pk} sent before signed")
            if letter.published_on and letter.published_on < _day(letter.sent_at):
                bad(f"reply {letter.pk} published before sent")
            if "publish" in at and letter.published_on != _day(at["publish"]):
                bad(f"reply {letter.pk} published_on {letter.published_on}, step {at['publish']}")
    for fb in Feedback.objects.filter(proposal=proposal).select_related("reply"):
        if fb.reply.sent_at is None or fb.received_at < fb.reply.sent_at:
            bad(f"feedback {fb.pk} received {fb.received_at} before its reply was sent")
    return problems


def test_every_timeline_entry_is_dated_as_the_story_goes():
    started = timezone.now()
    load()
    finished = timezone.now()
    problems = []
    for proposal in Proposal.objects.select_related("session"):
        end = _story_end(proposal)
        for name, value in _stamps(proposal):
            label = proposal.number or proposal.title
            if isinstance(value, datetime.datetime) and started <= value <= finished:
                problems.append(f"{label}: {name} stamped at load time ({value})")
            elif _day(value) > end:
                problems.append(f"{label}: {name} {_day(value)} after the story's today {end}")
        problems += _order_problems(proposal)
    assert not problems, "\n".join(problems[:40]) + f"\n… {len(problems)} in all"


def test_proposal_061_was_submitted_filed_and_assigned_in_2023():
    load()
    proposal = Proposal.objects.get(session=session("长宁", 15, 2), number="第061号")
    at = {t.verb: t.at for t in proposal.transitions.filter(content_type__model="proposal")}
    assert at["submit"] < at["file"] < at["assign"] < at["mark_replied"]
    assert {_day(value).year for value in at.values()} == {2023}
    assert _day(at["assign"]) == datetime.date(2023, 3, 15)
    assert _day(at["mark_replied"]) == datetime.date(2023, 6, 9)
    assert proposal.updated_at == at["mark_replied"]


def test_every_submitted_proposal_has_a_text_of_its_own():
    load()
    seen: dict[str, str] = {}
    for proposal in Proposal.objects.exclude(status=ProposalStatus.DRAFT):
        for field in ("analysis", "suggestions"):
            text = getattr(proposal, field).strip()
            assert len(text) >= 30, (proposal.title, field, text)
            assert not {"待补充", "TODO", "placeholder", "示例"} & set(text.split()), text
            other = seen.setdefault(text, proposal.title)
            assert other == proposal.title, f"{proposal.title} shares its {field} with {other}"


def test_proposals_are_submitted_by_their_proposers_never_by_committee_staff():
    load()
    staff = set(
        User.objects.filter(
            Q(office__in=STAFF_OFFICES)
            | Q(is_superuser=True)
            | Q(groups__name__in=[COMMITTEE_GROUP, SUPERVISION_GROUP])
            | Q(memberships__isnull=False)
        ).values_list("pk", flat=True)
    )
    assert staff
    for proposal in Proposal.objects.exclude(status=ProposalStatus.DRAFT).select_related(
        "lead_proposer"
    ):
        lead = proposal.lead_proposer
        speakers = {lead.user_id, *lead.conveners.values_list("user_id", flat=True)} - {None}
        submissions = proposal.transitions.filter(
            content_type__model="proposal", verb__in=["submit", "resubmit", "revise", "draft"]
        )
        assert submissions.filter(verb="submit").exists(), proposal.title
        for t in submissions:
            assert t.actor_id not in staff, (proposal.title, t.verb, str(t.actor))
            assert t.actor_id in speakers, (proposal.title, t.verb, str(t.actor))
        for t in proposal.transitions.filter(verb="confirm_coproposal"):
            assert t.actor_id not in staff
            assert proposal.coproposer_links.filter(proposer__user=t.actor_id).exists()
