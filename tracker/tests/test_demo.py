"""``manage.py load_demo``: the seed proposals, every state, logins, and a second run that
changes nothing."""

import datetime
import io

import pytest
from django.apps import apps
from django.core.management import call_command

from proposals.models import (
    Assignment,
    AssignmentState,
    ContactRecord,
    DueDate,
    Extension,
    Proposal,
    ProposalStatus,
    Session,
)
from replies.models import CoOpinion, Feedback, Reply, ReplyState
from tracker.demo import DEMO_TODAY, DEMO_USERS, SEED_PROPOSALS, UNITS

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


def test_every_demo_user_can_log_in(client):
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
    from tracker.demo_replies import SEED_REPLIES, SEEDS_DIR

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
