"""Another unit's object answers exactly like an object that does not exist — on every page.

For each ModelAdmin (and its custom views: verbs, previews, downloads, starting a letter) and
each changelist action, at least 30 pairs of (a unit's clerk or signer, an object they may not
see) are asked for; each answer must equal the answer for an id that was never used (status,
redirect, message, body — with the ids written out), and nothing in the database may change.
Then: the choices of forms and autocomplete hold only the user's own objects, and lookups on
private fields (proposers' phones) are refused.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse

from proposals.admin import ASSIGNMENT_VERBS, PROPOSAL_VERBS
from proposals.models import (
    Assignment,
    ContactRecord,
    DayOverride,
    DueDate,
    Proposal,
    ProposalAttachment,
    Proposer,
    Session,
    Transition,
    Unit,
    User,
)
from proposals.tests import factories as f
from replies.admin import OPINION_VERBS, REPLY_VERBS
from replies.models import CoOpinion, DocNumberCounter, Feedback, Reply
from tracker.tests import admin_data as d

pytestmark = pytest.mark.django_db

MIN_PAIRS = 30
PER_USER = 5  # foreign objects asked for by each of the six unit staff: 30 pairs a page
PER_ACTION_USER = 15  # one request selects 15 objects: 30 pairs an action from two users
#: The POSTs to the change and delete pages and the admin's own views (verbs, previews,
#: downloads) are asked for fewer pairs: two users, three objects each.
FEW_USERS, FEW_PER_USER = 2, 3

#: What a verb's form may ask for: every field, so that a verb that wrongly let the user in
#: would run (and the snapshot would catch it).
VERB_INPUT = {
    "apply": "1",
    "confirm": "1",
    "reason": "理由",
    "note": "说明",
    "comment": "意见",
    "disposition": "other",
    "new_due_on": "2030-01-01",
    "contacted_on": "2024-03-05",
    "method": "meeting",
    "rating": "satisfied",
    "channel": "paper",
    "override_reason": "理由",
}


@pytest.fixture(autouse=True)
def _cookie_sessions(settings):
    """Sessions in a signed cookie: a thousand requests without a session row each."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end (as
    Django's ``setUpTestData``); each test runs in a savepoint of it.

    Four units, each with a clerk and a signer, and each unit's work in every state; unit
    i+1 co-handles unit i's proposals (so it legitimately sees some of them). The staff of the
    first three units ask; the reference data has rows enough for 30 pairs too.
    """
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    blocker, hashing = django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=hashers)
    with blocker, hashing, transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


def _build_world() -> SimpleNamespace:
    committee = f.CommitteeFactory(username="access_committee")
    session = f.SessionFactory(term=15, meeting=2, name="十五届二次会议", year=2024)
    units = [d.staffed_unit(f"单位{i}", f"单{i}", f"u{i}") for i in range(4)]
    states = [
        (Assignment.State.PENDING, None),
        (Assignment.State.ACCEPTED, Reply.State.DRAFT),
        (Assignment.State.ACCEPTED, Reply.State.PENDING_SIGNATURE),
        (Assignment.State.RETURN_REQUESTED, None),
        (Assignment.State.REPLIED, Reply.State.SENT),
        (Assignment.State.REPLIED, Reply.State.PUBLISHED),
        (Assignment.State.ACCEPTED, Reply.State.SIGNED),
    ]
    for i, u in enumerate(units):
        co = units[(i + 1) % 4]
        for j, (state, reply_state) in enumerate(states):
            p = d.filed_proposal(session, title=f"单{i}的提案{j}")
            f.CoProposerFactory(proposal=p)
            a = d.assign(p, u.unit, state=state)
            c = d.assign(p, co.unit, role=Assignment.Role.CO)
            d.contact(a, ContactRecord.Method.MEETING, p.filed_at.date())
            d.contact(c, ContactRecord.Method.PHONE, p.filed_at.date())
            ProposalAttachment.objects.create(
                proposal=p, file=f"proposals/x{i}{j}.pdf", name="原件"
            )
            if reply_state:
                r = d.reply(a, state=reply_state, result=d.RESULT_A)
                if reply_state in (Reply.State.SENT, Reply.State.PUBLISHED):
                    for proposer in p.proposers():
                        d.feedback(r, proposer, Feedback.Rating.SATISFIED)
            d.opinion(c, state=[CoOpinion.State.DRAFT, CoOpinion.State.PENDING_SIGNATURE][j % 2])
        f.ProposalFactory(session=session, title=f"待审{i}")  # at the committee's stage
    for i in range(6):
        f.UnitFactory(name=f"未参与单位{i}")
        f.SessionFactory(term=14, meeting=i + 1)
        DocNumberCounter.objects.create(unit=units[i % 4].unit, year=2020 + i, last_number=3)
        DayOverride.objects.create(date=datetime.date(2030, 10, i + 1), is_workday=False)
        Transition.objects.create(
            actor=committee,
            content_type=ContentType.objects.get_for_model(Proposal),
            object_id=i + 1,
            verb="file",
        )
    return SimpleNamespace(units=units, committee=committee, session=session)


def staff(world) -> list[User]:
    return [user for u in world.units[:3] for user in u.staff]


def snapshot() -> dict:
    models = (
        Proposal,
        Assignment,
        DueDate,
        ContactRecord,
        ProposalAttachment,
        Reply,
        CoOpinion,
        Feedback,
        Transition,
        Session,
        DocNumberCounter,
        Unit,
        Proposer,
        DayOverride,
    )
    state = {m.__name__: list(m.objects.order_by("pk").values()) for m in models}
    state["log"] = LogEntry.objects.count()
    state["users"] = list(User.objects.order_by("pk").values("pk", "password", "is_active"))
    return state


def _read(response, ids: list[int], model) -> tuple:
    """What a response says, with the asked-for ids of ``model`` written as <id>."""
    storage = getattr(response.wsgi_request, "_messages", None)
    messages = [str(m) for m in getattr(storage, "_queued_messages", [])]
    body = b""
    if response.status_code not in (301, 302) and not response.streaming:
        body = response.content
    text = "\n".join([response.get("Location", ""), *messages, body.decode("utf-8", "replace")])
    segment = f"/{model._meta.app_label}/{model._meta.model_name}/"
    if model is ProposalAttachment:
        segment = "/files/attachments/"
    for pk in ids:
        # Where an id of the model shows: its URLs, Django's “…” message, a selected row.
        text = text.replace(f"{segment}{pk}/", f"{segment}<id>/").replace(f"“{pk}”", "“<id>”")
        text = text.replace(f'name="{ACTION_CHECKBOX_NAME}" value="{pk}"', "<selected>")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return response.status_code, text


def ask(client, method: str, url: str, data: dict | None, ids: list[int], model) -> tuple:
    client.cookies.pop("messages", None)
    response = getattr(client, method)(url, data or {})
    return _read(response, ids, model)


Url = Callable[[int], str]


def admin_url(model, view: str) -> Url:
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    return lambda pk: reverse(info, args=[pk])


def verb_url(model, verb: str) -> Url:
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}_verb"
    return lambda pk: reverse(info, args=[pk, verb])


def standard_pages(model) -> list[tuple[str, Url, dict | None]]:
    """The change, history and delete pages of one object: (method, url, data)."""
    if model is ProposalAttachment:  # no admin of its own: its download is its page
        return [("get", lambda pk: reverse("attachment-download", args=[pk]), None)]
    return [
        ("get", admin_url(model, "change"), None),
        ("get", admin_url(model, "history"), None),
        ("get", admin_url(model, "delete"), None),
    ]


def posted_pages(model) -> list[tuple[str, Url, dict | None]]:
    """The same pages posted to: a save and a confirmed deletion."""
    if model is ProposalAttachment:
        return []
    return [
        ("post", admin_url(model, "change"), {"title": "改", "loaded_version": "1"}),
        ("post", admin_url(model, "delete"), {"post": "yes"}),
    ]


def custom_pages(model) -> list[tuple[str, Url, dict | None]]:
    """The admin's own views of one object: verbs, PDF preview and download, starting."""
    found = []
    verbs = {
        Proposal: PROPOSAL_VERBS,
        Assignment: ASSIGNMENT_VERBS,
        Reply: REPLY_VERBS,
        CoOpinion: OPINION_VERBS,
    }.get(model, ())
    for i, verb in enumerate(verbs):
        found.append(("post", verb_url(model, verb.name), VERB_INPUT))
        if i == 0:
            found.append(("get", verb_url(model, verb.name), None))
    if model in (Reply, CoOpinion):
        found += [
            ("get", admin_url(model, "preview"), None),
            ("post", admin_url(model, "preview"), {"title": "改", "loaded_version": "1"}),
            ("get", admin_url(model, "download"), None),
        ]
    if model is Assignment:
        for letters in ("admin:replies_reply_start_for", "admin:replies_coopinion_start_for"):
            found += [
                ("get", lambda pk, name=letters: reverse(name, args=[pk]), None),
                ("post", lambda pk, name=letters: reverse(name, args=[pk]), {}),
            ]
    return found


def foreign(
    model, users: list[User], per_user: int, *, enough: int = 0
) -> list[tuple[User, list[int]]]:
    """For each user, some objects of ``model`` the user may not see (stopping once there are
    ``enough`` pairs)."""
    pairs = []
    for user in users:
        hidden = model.objects.order_by("pk")
        if hasattr(model.objects, "visible_to"):
            hidden = hidden.exclude(pk__in=model.objects.visible_to(user).values("pk"))
        pairs.append((user, list(hidden.values_list("pk", flat=True)[:per_user])))
        if enough and sum(len(ids) for _u, ids in pairs) >= enough:
            break
    return pairs


def nonexistent(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return last + 100000


def check_pages(client, model, pages, pairs) -> int:
    """Ask every page for every pair, and for a missing id; returns the pairs asked."""
    missing = nonexistent(model)
    for user, ids in pairs:
        client.force_login(user)
        for method, url, data in pages:
            expected = ask(client, method, url(missing), data, [missing], model)
            for pk in ids:
                got = ask(client, method, url(pk), data, [pk], model)
                assert got == expected, (user.username, method, url(pk))
    return sum(len(ids) for _u, ids in pairs)


SCOPED = [Proposal, Assignment, ContactRecord, Reply, CoOpinion, Feedback, ProposalAttachment]
OFFICE_ONLY = [User, Unit, Session, Proposer, Transition, DayOverride, DocNumberCounter]


@pytest.mark.parametrize("model", SCOPED + OFFICE_ONLY, ids=lambda m: m.__name__)
def test_the_change_history_and_delete_pages_answer_as_for_a_missing_id(client, world, model):
    before = snapshot()
    pairs = foreign(model, staff(world), PER_USER)
    assert check_pages(client, model, standard_pages(model), pairs) >= MIN_PAIRS
    assert snapshot() == before


@pytest.mark.parametrize("model", SCOPED + OFFICE_ONLY, ids=lambda m: m.__name__)
def test_saves_deletions_verbs_previews_and_downloads_answer_as_for_a_missing_id(
    client, world, model
):
    before = snapshot()
    users = staff(world)[::3][:FEW_USERS]  # a clerk of one unit, a signer of another
    pairs = foreign(model, users, FEW_PER_USER)
    pages = posted_pages(model) + custom_pages(model)
    assert check_pages(client, model, pages, pairs) >= FEW_USERS * FEW_PER_USER or not pages
    assert snapshot() == before


ACTION_MODELS = [m for m in SCOPED + OFFICE_ONLY if m in admin.site._registry]


@pytest.mark.parametrize("model", ACTION_MODELS, ids=lambda m: m.__name__)
def test_every_action_on_another_units_objects_answers_like_on_none_and_changes_nothing(
    client, rf, world, model
):
    model_admin = admin.site._registry[model]
    actions = ["delete_selected", *(getattr(a, "__name__", a) for a in model_admin.actions or ())]
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    before = snapshot()
    users = staff(world)[::3] + staff(world)  # a clerk and a signer first; more if needed
    pairs = foreign(model, users, PER_ACTION_USER, enough=MIN_PAIRS)
    assert sum(len(ids) for _u, ids in pairs) >= MIN_PAIRS
    missing = nonexistent(model)
    for user, ids in pairs:
        client.force_login(user)
        request = rf.get(changelist)
        request.user = user
        offered = set(model_admin.get_actions(request))
        for action in actions:
            # An action the user is not offered is refused before the selection is read.
            steps = ({"index": "0"}, VERB_INPUT) if action in offered else ({"index": "0"},)
            for step in steps:
                data = {"action": action, **step}
                none = {**data, ACTION_CHECKBOX_NAME: [missing]}
                expected = ask(client, "post", changelist, none, [missing], model)
                some = {**data, ACTION_CHECKBOX_NAME: ids}
                got = ask(client, "post", changelist, some, ids, model)
                assert got == expected, (user.username, action, step)
    assert snapshot() == before


# --- Choices, autocomplete, private lookups -------------------------------------------------


def test_foreign_key_choices_hold_only_the_users_own_objects(world):
    clerk = world.units[0].clerk
    request = RequestFactory().get("/")
    request.user = clerk
    reply_admin = admin.site._registry[Reply]
    field = reply_admin.formfield_for_foreignkey(Reply._meta.get_field("assignment"), request)
    own = set(Assignment.objects.visible_to(clerk).values_list("pk", flat=True))
    offered = set(field.queryset.values_list("pk", flat=True))
    assert offered and offered <= own
    contact_admin = admin.site._registry[ContactRecord]
    field = contact_admin.formfield_for_foreignkey(
        ContactRecord._meta.get_field("assignment"), request
    )
    assert set(field.queryset.values_list("pk", flat=True)) <= own


def test_the_list_filters_and_the_start_menu_offer_only_the_users_own_objects(client, world):
    clerk, unit = world.units[0].clerk, world.units[0].unit
    client.force_login(clerk)
    page = client.get(reverse("admin:proposals_assignment_changelist"))
    own_units = set(clerk.unit_ids())
    assert own_units == {unit.pk}
    specs = {getattr(spec, "field_path", None): spec for spec in page.context["cl"].filter_specs}
    if "unit" in specs:  # Django drops a filter with a single choice
        assert {pk for pk, _label in specs["unit"].lookup_choices} <= own_units
    listed_units = {a.unit_id for a in page.context["cl"].result_list}
    assert listed_units == own_units
    replies = client.get(reverse("admin:replies_reply_changelist"))
    choices = [value for _g, group in replies.context["start_choices"] for value, _l in group]
    mine = set(Assignment.objects.filter(unit=unit).values_list("pk", flat=True))
    assert choices and {int(v.split(":")[0]) for v in choices} <= mine


def test_autocomplete_lists_only_what_the_user_may_see(client, world):
    """Every autocomplete field of every admin and inline, asked by a clerk: a refusal, or
    only the clerk's own objects."""
    clerk = world.units[0].clerk
    sources = []
    for model, model_admin in admin.site._registry.items():
        holders = [model_admin, *(i(model, admin.site) for i in model_admin.inlines)]
        for holder in holders:
            for name in holder.autocomplete_fields:
                sources.append((holder.model, name))
    assert sources
    client.force_login(clerk)
    url = reverse("admin:autocomplete")
    for model, name in sources:
        params = {
            "app_label": model._meta.app_label,
            "model_name": model._meta.model_name,
            "field_name": name,
            "term": "",
        }
        response = client.get(url, params)
        if response.status_code == 403:
            continue
        target = model._meta.get_field(name).related_model
        ids = {int(r["id"]) for r in response.json()["results"]}
        visible = (
            target.objects.visible_to(clerk) if hasattr(target.objects, "visible_to") else None
        )
        assert visible is not None, f"{model.__name__}.{name} lists a model without visibility"
        assert ids <= set(visible.values_list("pk", flat=True))
    # The committee is served.
    client.force_login(world.committee)
    params = {"app_label": "proposals", "model_name": "proposal", "field_name": "lead_proposer"}
    assert client.get(url, {**params, "term": ""}).status_code == 200


PRIVATE_LOOKUPS = [
    ("proposals_proposal_changelist", "lead_proposer__mobile", "13900000001"),
    ("proposals_proposal_changelist", "lead_proposer__mobile__startswith", "139"),
    ("proposals_proposal_changelist", "coproposer_links__proposer__phone__contains", "5"),
    ("proposals_assignment_changelist", "proposal__lead_proposer__email__contains", "@"),
    ("proposals_assignment_changelist", "assigned_by__password__startswith", "md5"),
    ("proposals_contactrecord_changelist", "proposers__address__contains", "路"),
    ("replies_reply_changelist", "proposal__lead_proposer__mobile", "13900000001"),
    ("replies_feedback_changelist", "proposer__postcode", "200050"),
    ("proposals_unit_changelist", "memberships__user__phone", "123"),
    ("proposals_user_changelist", "password__startswith", "md5"),
]


@pytest.mark.parametrize("name,lookup,value", PRIVATE_LOOKUPS)
def test_a_lookup_on_a_private_field_is_refused(client, world, name, lookup, value):
    committee = world.committee
    for user in (world.units[0].clerk, committee):
        client.force_login(user)
        response = client.get(reverse(f"admin:{name}"), {lookup: value})
        assert response.status_code in (400, 403), (user.username, lookup)
    client.force_login(committee)
    app_label, model_name = name.split("_")[:2]
    export = reverse("tracker_admin:export", args=[app_label, model_name])
    assert client.get(export, {lookup: value}).status_code == 400


def test_the_committee_may_still_filter_its_own_proposer_list_by_phone(client, world):
    client.force_login(world.committee)
    page = client.get(reverse("admin:proposals_proposer_changelist"), {"mobile": "139"})
    assert page.status_code == 200
