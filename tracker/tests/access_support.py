"""The access matrix's routes and world (tracker/tests/test_access_matrix.py).

``routes()`` enumerates, from the URL configuration and the API schema, every route that takes
an object id: each ``path()``/``re_path()`` reached by walking ``get_resolver()`` recursively
whose pattern has a parameter, and each path of drf-spectacular's schema with a ``{param}``.
Every parameter is mapped to an object of the world here; a parameter, a model or an API path
this module does not know makes the matrix fail until it is taught (``UnknownRoute``), so a new
route can never slip past the table.

``build_world()`` makes one small world: a proposal of proposer P, assigned to unit A (lead)
and unit C (co-handling) after units W (lead) and X (co) had it, started a letter each and were
withdrawn (申请退回 approved), unit B not involved; A's reply signed, sent and published (with its
stored PDF and P's feedback) and A's follow-up reply left as a draft; C's opinion delivered to A
and another of C's left as a draft; a contact record, due dates and an extension, the audit
trail, an attachment, the committee's admin jobs, and one row of every other model an admin
page shows.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from proposals import workflow as pwf
from proposals.models import (
    AccessEvent,
    Assignment,
    CalendarYear,
    ContactRecord,
    DayOverride,
    DueDate,
    Membership,
    Proposal,
    ProposalAttachment,
    Proposer,
    Session,
    Transition,
    Unit,
    User,
)
from proposals.tests import factories as f
from publication.models import PublicationQueue
from replies import workflow as rwf
from replies.models import CoOpinion, Disclosure, DocNumberCounter, Feedback, Reply
from signing.artwork import draw_seal
from signing.models import LetterSignature, UnitSeal
from tracker import jobs
from tracker.models import (
    Digest,
    EventNotice,
    LoginLinkMail,
    NotificationPreference,
    Reminder,
    ReminderClock,
    ScanRun,
)
from tracker.models_members import Invitation, Member, MemberChannel, MemberNotice, MemberPreference

#: The actors of the matrix, in the order the table lists them.
ACTORS = (
    "committee",  # 提案委员会
    "supervisor",  # 督查室
    "clerk_a",  # clerk of the owning (lead) unit A
    "signer_a",  # signer of unit A
    "clerk_b",  # clerk of unit B, which has nothing to do with the proposal
    "clerk_w",  # clerk of unit W, the first lead unit, withdrawn after 申请退回 was approved
    "clerk_x",  # clerk of unit X, the first co-handling unit, withdrawn likewise
    "proposer",  # P, the proposal's lead proposer
    "proposer_other",  # another member
    "anonymous",
)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

#: A PDF small enough to serve, valid enough to be sniffed as one.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

#: Models with more than one object in the world: each route of theirs is asked for each.
VARIANTS: dict[type[Model], tuple[str, ...]] = {
    Reply: ("draft", "published", "sent", "withdrawn"),
    CoOpinion: ("delivered", "draft", "withdrawn"),
}
#: Admins of a proxy model ask about the model's rows: the review queue before publication
#: (issue 22) lists sent replies.
PROXY_MODELS: dict[type[Model], type[Model]] = {PublicationQueue: Reply, Member: Proposer}

#: The model named by the path segment in front of an id outside the admin.
SEGMENT_MODELS: dict[str, type[Model]] = {
    "proposals": Proposal,
    "replies": Reply,
    "attachments": ProposalAttachment,
    # The review before publication (issue 22): a reply, through the admin's queue of them.
    "publicationqueue": Reply,
}

#: Routes with parameters that name no object (a model's name, a catch-all path), so they are
#: not in the matrix. Anything else with a parameter is.
NOT_OBJECT_ROUTES = {
    "admin:app_list": "the app's label",
    "tracker_admin:export": "a model's name; the rows exported are the changelist's own",
    "api:not-found": "any path under /api/ that names nothing: the JSON 404",
}
#: The admin's catch-all (``admin/(?P<url>.*)$``) has no name.
NOT_OBJECT_PATTERNS = {"admin/(?P<url>.*)$": "the admin's catch-all 404 / login redirect"}

#: A token that is never valid, for the sign-in link's route.
BAD_TOKEN = "c0ffee-0000000000000000000000000000000"


class UnknownRoute(AssertionError):
    """A route the matrix does not know how to ask: teach ``access_support`` about it."""


@dataclass(frozen=True)
class Route:
    key: str  # the pattern as the table names it
    obj: str  # the object asked for: "Model" or "Model:variant"
    name: str  # the URL name (namespace:name), or the API operation
    source: str  # "urls" or "schema"
    params: tuple[tuple[str, str], ...]  # (parameter, what it is) in the order of the pattern
    template: str  # the path with {param} placeholders
    model: type[Model] | None  # the model of the object asked for
    variant: str

    @property
    def id(self) -> str:
        return f"{self.key} [{self.obj}]"

    def url(self, world: SimpleNamespace, *, missing: bool = False) -> str:
        values = {p: world.value(what, self, missing=missing) for p, what in self.params}
        return "/" + self.template.format(**values)


# --- Walking the URL configuration ----------------------------------------------------------


def _walk(resolver: URLResolver, prefix: str = "", ns: str = "") -> Iterator[tuple]:
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            sub_ns = ":".join(x for x in (ns, p.namespace or "") if x)
            yield from _walk(p, prefix + str(p.pattern), sub_ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p, ns


_CONVERTER = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def _template(pattern: str) -> tuple[str, list[str]]:
    """``a/<int:pk>/b`` or a regex ``^a/(?P<pk>[^/.]+)/$`` as ``a/{pk}/b`` and its names."""
    names: list[str] = []

    def sub(match: re.Match) -> str:
        names.append(match.group("name"))
        return "{" + match.group("name") + "}"

    text = _CONVERTER.sub(sub, pattern)
    text = _GROUP.sub(sub, text)
    text = text.replace("^", "").replace("$", "")
    return text, names


def model_admin_of(callback: Callable) -> ModelAdmin | None:
    """The ModelAdmin behind an admin view (Django's ``wrap`` sets ``model_admin``; a view of
    the admin's own ``get_urls`` is a bound method under ``admin_view``'s wrapper)."""
    seen = callback
    while seen is not None:
        found = getattr(seen, "model_admin", None)
        if isinstance(found, ModelAdmin):
            return found
        owner = getattr(seen, "__self__", None)
        if isinstance(owner, ModelAdmin):
            return owner
        seen = getattr(seen, "__wrapped__", None)
    return None


def _segment_model(template: str, param: str) -> type[Model]:
    before = template.split("{" + param + "}")[0].rstrip("/").rsplit("/", 1)[-1]
    if before not in SEGMENT_MODELS:
        raise UnknownRoute(f"{template}: which model does the id after {before!r} name?")
    return SEGMENT_MODELS[before]


def _classify(template: str, names: list[str], url_name: str, ma: ModelAdmin | None):
    """(param, what) pairs and the model of the object the route is about."""
    params: list[tuple[str, str]] = []
    model: type[Model] | None = None
    expand_verbs = False
    for name in names:
        if name == "content_type_id":
            params.append((name, "content_type"))
        elif name in ("object_id", "id") and "content_type_id" in names:
            params.append((name, "object"))
            model = Proposal  # the admin's view-on-site shortcut, asked about a proposal
        elif name in ("object_id", "id") and ma is not None:
            params.append((name, "object"))
            model = PROXY_MODELS.get(ma.model, ma.model)
        elif name == "assignment_id":
            params.append((name, "object"))
            model = Assignment
        elif name in ("pk", "id"):
            params.append((name, "object"))
            model = _segment_model(template, name)
        elif name == "verb" and ma is not None and getattr(ma, "verbs", None):
            expand_verbs = True
            params.append((name, "verb"))
        elif name == "job_id":
            params.append((name, "job"))
            model = None
        elif name == "uidb64":
            params.append((name, "uid"))
            model = User
        elif name == "token":
            params.append((name, "token"))
        else:
            raise UnknownRoute(f"{template} ({url_name}): what is the parameter {name!r}?")
    return params, model, expand_verbs


def url_routes() -> list[Route]:
    """Every route of the URL configuration outside /api/ that takes a parameter."""
    found: list[Route] = []
    for pattern, p, ns in _walk(get_resolver()):
        template, names = _template(pattern)
        if not names:
            continue
        url_name = f"{ns}:{p.name}" if ns and p.name else (p.name or "")
        if url_name in NOT_OBJECT_ROUTES or pattern in NOT_OBJECT_PATTERNS:
            continue
        if pattern.startswith("api/"):
            continue  # from the schema (``schema_routes``); ``test_…_api_routes_are_in_the_schema``
        ma = model_admin_of(p.callback)
        params, model, expand_verbs = _classify(template, names, url_name, ma)
        verbs = [v.name for v in ma.verbs] if expand_verbs else [None]
        for verb in verbs:
            key, tmpl, prm = pattern, template, params
            if verb is not None:
                key = pattern.replace("<slug:verb>", verb)
                tmpl = template.replace("{verb}", verb)
                prm = tuple(x for x in params if x[0] != "verb")
            found += _variants(key, url_name, "urls", tuple(prm), tmpl, model)
    return found


def _variants(key, url_name, source, params, template, model) -> list[Route]:
    variants = VARIANTS.get(model, ("",)) if model is not None else ("",)
    if any(what == "job" for _p, what in params):
        model, variants = None, (_job_kind(url_name),)
    out = []
    for variant in variants:
        obj = model.__name__ if model is not None else "job"
        obj = f"{obj}:{variant}" if variant else obj
        out.append(Route(key, obj, url_name, source, params, template, model, variant))
    return out


def _job_kind(url_name: str) -> str:
    return "import" if url_name.endswith("import_job") else "pdfs"


# --- The API schema -------------------------------------------------------------------------


def api_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def schema_routes(schema: dict | None = None) -> list[Route]:
    """Every path of the API schema with a path parameter."""
    schema = schema or api_schema()
    found: list[Route] = []
    for path, operations in sorted(schema["paths"].items()):
        names = re.findall(r"{(\w+)}", path)
        if not names:
            continue
        template = path.lstrip("/")
        params: list[tuple[str, str]] = []
        model = None
        for name in names:
            if name not in ("id", "pk"):
                raise UnknownRoute(f"{path}: what is the parameter {name!r}?")
            params.append((name, "object"))
            model = _segment_model(template, name)
        ops = ",".join(
            sorted(op["operationId"] for m, op in operations.items() if m != "parameters")
        )
        found += _variants(path, ops, "schema", tuple(params), template, model)
    return found


def routes() -> list[Route]:
    return sorted(url_routes() + schema_routes(), key=lambda r: (r.key, r.obj))


# --- The world ------------------------------------------------------------------------------


class World(SimpleNamespace):
    """The objects, the people, and how each route's parameters are filled in."""

    def obj(self, route: Route) -> Model:
        if route.model is None:
            raise UnknownRoute(route.id)
        try:
            return self.objects[(route.model, route.variant)]
        except KeyError:
            raise UnknownRoute(
                f"{route.id}: the world has no {route.model.__name__} "
                f"{route.variant!r}; add one to access_support.build_world"
            ) from None

    def value(self, what: str, route: Route, *, missing: bool) -> str:
        if what == "object":
            obj = self.obj(route)
            if missing:
                return self.missing_pk(type(obj))
            return str(obj.pk)
        if what == "content_type":
            return str(ContentType.objects.get_for_model(Proposal).pk)
        if what == "job":
            return "f" * 32 if missing else self.jobs[route.variant]
        if what == "uid":
            pk = int(self.missing_pk(User)) if missing else self.proposer.pk
            return urlsafe_base64_encode(force_bytes(pk))
        if what == "token":
            return BAD_TOKEN
        raise UnknownRoute(what)

    def may_see(self, actor: str, route: Route) -> bool:
        """Whether ``actor`` may know that the route's object exists (SECURITY.md, "Who may see
        what"): those who may not get the answer of an id that names nothing."""
        public = is_public_route(route, route.url(self))
        kinds = tuple(sorted({what for _p, what in route.params}))
        key = (actor, route.obj, public, kinds)
        memo = self.__dict__.setdefault("_may_see_memo", {})
        if key not in memo:
            memo[key] = self._may_see(actor, route, public=public)
        return memo[key]

    def _may_see(self, actor: str, route: Route, *, public: bool) -> bool:
        user = self.actors[actor]
        if route.obj.startswith("job:"):
            return user is not None and user.pk == self.actors["committee"].pk  # who started it
        if any(what == "uid" for _p, what in route.params):
            return False  # a sign-in link with a bad token says nothing about its user
        obj = self.obj(route)
        if public:
            return Reply.objects.published().filter(pk=obj.pk).exists()
        if user is None:
            return False
        model = type(obj)._meta.concrete_model  # a proxy (the review queue) asks its model
        same = model.objects.filter(pk=obj.pk)
        if hasattr(model.objects, "visible_to") and same.visible_to(user).exists():
            return True
        proposer = Proposer.objects.filter(user=user).first()
        if model in (Proposal, Reply) and same.for_proposer(proposer).exists():
            return True
        if model is NotificationPreference:
            return user.is_committee or obj.user_id == user.pk
        return bool(user.sees_everything)

    def missing_pk(self, model: type[Model]) -> str:
        """An id no row of ``model`` has, of the same length as the real one where it can be
        (so that a page that prints the id is otherwise byte-identical)."""
        field = model._meta.pk
        if field.get_internal_type() in ("CharField", "TextField"):
            return "0" * (field.max_length or 40)
        return str(self.missing_ids[model])


def is_public_route(route: Route, path: str) -> bool:
    """The public surface: the public API, and the public pages (``/public/``, issue 22),
    where whoever asks, only publication counts."""
    if route.source == "schema":
        return _is_public_api(path)
    return route.template.startswith("public/")


def _is_public_api(path: str) -> bool:
    from proposals.api.common import PublicAPIView

    view = getattr(resolve(path).func, "cls", None)
    return view is not None and issubclass(view, PublicAPIView)


def build_world() -> World:
    """See the module's docstring. Called inside a transaction that is rolled back."""
    today = timezone.localdate()
    session = f.SessionFactory(term=15, meeting=2, name="十五届二次会议", year=today.year)
    committee = f.CommitteeFactory(username="am_committee", full_name="委员会")
    supervisor = f.SupervisorFactory(username="am_supervisor", full_name="督查员")
    unit_a = f.UnitFactory(name="矩阵甲单位", short_name="甲单位", docno_prefix="矩甲")
    unit_b = f.UnitFactory(name="矩阵乙单位", short_name="乙单位", docno_prefix="矩乙")
    unit_c = f.UnitFactory(name="矩阵丙单位", short_name="丙单位", docno_prefix="矩丙")

    def staff(username: str, unit: Unit, role: str) -> User:
        user = f.UserFactory(username=username, full_name=username)
        f.MembershipFactory(user=user, unit=unit, role=role)
        return user

    clerk_a = staff("am_clerk_a", unit_a, Membership.Role.CLERK)
    signer_a = staff("am_signer_a", unit_a, Membership.Role.SIGNER)
    clerk_b = staff("am_clerk_b", unit_b, Membership.Role.CLERK)
    staff("am_signer_b", unit_b, Membership.Role.SIGNER)
    clerk_c = staff("am_clerk_c", unit_c, Membership.Role.CLERK)
    signer_c = staff("am_signer_c", unit_c, Membership.Role.SIGNER)

    def member(username: str, name: str) -> User:
        user = f.UserFactory(username=username, full_name=name, is_staff=False)
        f.ProposerFactory(name=name, user=user)
        return user

    proposer = member("am_proposer", "张文浩")
    proposer_other = member("am_proposer_other", "钱建峰")
    p = proposer.proposer

    proposal = f.ProposalFactory(session=session, lead_proposer=p, title="关于矩阵测试的建议")
    pwf.file_proposal(proposal, actor=committee, note="立案")

    # First handed to W (lead) and X (co), who each start a letter, then ask to be let off
    # (申请退回), which the committee approves: from then on neither may see anything of it.
    unit_w = f.UnitFactory(name="矩阵戊单位", short_name="戊单位", docno_prefix="矩戊")
    unit_x = f.UnitFactory(name="矩阵己单位", short_name="己单位", docno_prefix="矩己")
    clerk_w = staff("am_clerk_w", unit_w, Membership.Role.CLERK)
    clerk_x = staff("am_clerk_x", unit_x, Membership.Role.CLERK)
    first_on = today - datetime.timedelta(days=22)
    first_lead, first_co = pwf.assign_proposal(
        proposal, actor=committee, units=[(unit_w, "lead"), (unit_x, "co")], assigned_on=first_on
    )
    pwf.accept_assignment(first_lead, actor=clerk_w)
    pwf.accept_assignment(first_co, actor=clerk_x)
    withdrawn_reply = rwf.start_reply(first_lead, actor=clerk_w)
    withdrawn_opinion = rwf.start_opinion(first_co, actor=clerk_x)
    for first, clerk in ((first_lead, clerk_w), (first_co, clerk_x)):
        pwf.request_reassignment(first, actor=clerk, reason="不属本单位职责", on=first_on)
        pwf.approve_reassignment(first, actor=committee, note="同意退回")
    lead, co = pwf.assign_proposal(
        proposal,
        actor=committee,
        units=[(unit_a, "lead"), (unit_c, "co")],
        assigned_on=today - datetime.timedelta(days=20),
        note="交办",
    )
    pwf.accept_assignment(lead, actor=clerk_a)
    pwf.accept_assignment(co, actor=clerk_c)
    due = DueDate.objects.filter(assignment=lead, clock=DueDate.Clock.REPLY).get()
    extension = pwf.extend_assignment(
        lead,
        actor=committee,
        new_due_on=due.due_on + datetime.timedelta(days=7),
        reason="需要协调",
    )
    contact = pwf.log_contact(
        lead,
        actor=clerk_a,
        contacted_on=today - datetime.timedelta(days=10),
        method="meeting",
        proposers=[p],
        notes="座谈",
    )
    opinion = rwf.start_opinion(co, actor=clerk_c)
    opinion = rwf.edit_opinion(opinion, actor=clerk_c, version=opinion.version, body="同意。")
    rwf.submit_opinion(opinion, actor=clerk_c)
    rwf.sign_opinion(opinion, actor=signer_c)
    rwf.deliver_opinion(opinion, actor=clerk_c)
    draft_opinion = CoOpinion.objects.create(
        assignment=co,
        proposal=proposal,
        unit=unit_c,
        title="会办意见（草稿）",
        salutation="甲单位：",
        body="草稿。",
    )

    reply = rwf.start_reply(lead, actor=clerk_a)
    reply = rwf.edit_reply(
        reply,
        actor=clerk_a,
        version=reply.version,
        result_label="解决或采纳",
        disclosure=Disclosure.PUBLIC,
        body=reply.body + "一、总体情况\n已经办理。",
    )
    rwf.submit_reply(reply, actor=clerk_a)
    rwf.sign_reply(reply, actor=signer_a)
    rwf.send_reply(reply, actor=clerk_a)
    rwf.publish_reply(reply, actor=clerk_a)
    rwf.store_signed_pdf("reply", reply.pk)
    rwf.store_signed_pdf("opinion", opinion.pk)
    feedback = rwf.record_feedback(reply, actor=proposer, proposer=p, rating="satisfied")
    # A follow-up sent, 主动公开, waiting for its review before publication (issue 22).
    queued = rwf.start_reply(lead, actor=clerk_a, kind=Reply.Kind.FOLLOW_UP)
    queued = rwf.edit_reply(
        queued,
        actor=clerk_a,
        version=queued.version,
        result_label="解决或采纳",
        disclosure=Disclosure.PUBLIC,
        body=queued.body + "跟踪办理情况。",
    )
    rwf.submit_reply(queued, actor=clerk_a)
    rwf.sign_reply(queued, actor=signer_a)
    rwf.send_reply(queued, actor=clerk_a)
    draft = rwf.start_reply(lead, actor=clerk_a, kind=Reply.Kind.FOLLOW_UP)
    draft = rwf.edit_reply(draft, actor=clerk_a, version=draft.version, body="再次答复稿")

    attachment = ProposalAttachment(proposal=proposal, name="原件.pdf", uploaded_by=committee)
    attachment.file.save("original.pdf", ContentFile(TINY_PDF), save=True)

    transition = Transition.objects.filter(verb="file").order_by("pk").first()
    group = Group.objects.create(name="矩阵组")
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from rest_framework.authtoken.models import Token, TokenProxy

    axes_common = {"user_agent": "pytest", "ip_address": "192.0.2.1", "username": "x"}
    attempt = AccessAttempt.objects.create(
        **axes_common, path_info="/my/login/", get_data="", post_data="", failures_since_start=1
    )
    access_log = AccessLog.objects.create(**axes_common, path_info="/my/login/")
    failure_log = AccessFailureLog.objects.create(
        **axes_common, path_info="/my/login/", locked_out=False
    )
    token = Token.objects.create(user=proposer)
    token_proxy = TokenProxy.objects.get(pk=token.pk)
    day = DayOverride.objects.create(date=datetime.date(2030, 10, 8), is_workday=False)
    year = CalendarYear.objects.create(year=2031, source="国务院办公厅通知", entered_by=committee)
    event = AccessEvent.objects.create(kind=AccessEvent.Kind.LOGIN, user=clerk_a, username="x")
    counter = DocNumberCounter.objects.get(unit=unit_a)
    # Issue 23: unit A's seal, and what signing recorded of its published reply.
    seal = UnitSeal(unit=unit_a, kind=UnitSeal.Kind.PNG)
    seal.image.save("seal.png", ContentFile(draw_seal("矩阵甲单位")), save=True)
    signature = LetterSignature.objects.create(
        kind="reply",
        letter_id=reply.pk,
        # The stored file's own hash: a PDF download checks the file against it (issue 23).
        sha256=Reply.objects.get(pk=reply.pk).pdf_sha256,
        signers="矩阵甲单位（演示）",
        seals=1,
        signed_at=timezone.now(),
    )
    # Issue 21: P's invitation, a notice to P, and P's channels.
    invitation = Invitation.objects.create(
        user=proposer, proposer=p, generation=1, email="am_proposer@example.com"
    )
    member_notice = MemberNotice.objects.create(
        email="am_proposer@example.com",
        channel=MemberChannel.EMAIL,
        event=MemberNotice._meta.get_field("event").choices[0][0],
        transition=transition,
        proposer=p,
    )
    member_preference = MemberPreference.objects.create(proposer=p)
    reminder = Reminder.objects.create(
        assignment=lead,
        due_date=due,
        clock=ReminderClock.REPLY,
        step=5,
        due_on=due.due_on,
        scanned_on=today,
        recipients=[clerk_a.pk],
    )
    digest = Digest.objects.create(user=clerk_a, email="a@example.org", on=today)
    notice = EventNotice.objects.create(
        event="reply_sent", transition=transition, user=clerk_a, email="a@example.org"
    )
    login_link = LoginLinkMail.objects.create(user=proposer, email="p@example.org")
    scan = ScanRun.objects.create(on=today)
    preference = NotificationPreference.objects.create(user=clerk_a, muted=["reply"])

    objects: dict[tuple[type[Model], str], Model] = {
        (Proposal, ""): proposal,
        (Assignment, ""): lead,
        (ContactRecord, ""): contact,
        (Reply, "draft"): draft,
        (Reply, "published"): reply,
        (Reply, "sent"): queued,
        (CoOpinion, "delivered"): opinion,
        (CoOpinion, "draft"): draft_opinion,
        (Reply, "withdrawn"): withdrawn_reply,
        (CoOpinion, "withdrawn"): withdrawn_opinion,
        (Feedback, ""): feedback,
        (ProposalAttachment, ""): attachment,
        (Transition, ""): transition,
        (User, ""): clerk_a,
        (Unit, ""): unit_a,
        (Session, ""): session,
        (Proposer, ""): p,
        (DayOverride, ""): day,
        (CalendarYear, ""): year,
        (AccessEvent, ""): event,
        (DocNumberCounter, ""): counter,
        (UnitSeal, ""): seal,
        (LetterSignature, ""): signature,
        (Invitation, ""): invitation,
        (MemberNotice, ""): member_notice,
        (MemberPreference, ""): member_preference,
        (Group, ""): group,
        (AccessAttempt, ""): attempt,
        (AccessLog, ""): access_log,
        (AccessFailureLog, ""): failure_log,
        (TokenProxy, ""): token_proxy,
        (Digest, ""): digest,
        (EventNotice, ""): notice,
        (LoginLinkMail, ""): login_link,
        (Reminder, ""): reminder,
        (ScanRun, ""): scan,
        (NotificationPreference, ""): preference,
    }
    missing_ids = {}
    for model, _variant in objects:
        if model._meta.pk.get_internal_type() in ("CharField", "TextField"):
            continue
        top = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        # Far above every id, and as many digits as the object's own where that is possible.
        missing_ids[model] = max(top + 1000, 9000)
    missing_ids[User] = max(missing_ids[User], 9000)

    job_ids = {
        "import": jobs.create(
            "import_check",
            user_id=committee.pk,
            payload={
                "session_id": session.pk,
                "session": str(session),
                "file_name": "立案.xlsx",
                "rows": [],
                "lines": [],
            },
        ),
        "pdfs": jobs.create(
            "session_pdfs",
            user_id=committee.pk,
            payload={"session_id": session.pk, "session": str(session)},
        ),
    }
    # The PDF bundle is done: its ZIP is there to download.
    zip_path = default_storage.save(
        f"jobs/{job_ids['pdfs']}.zip", ContentFile(b"PK\x05\x06" + bytes(18))
    )
    jobs.update(job_ids["pdfs"], state=jobs.DONE, result={"path": zip_path, "count": 1})
    return World(
        session=session,
        units=SimpleNamespace(a=unit_a, b=unit_b, c=unit_c),
        actors={
            "committee": committee,
            "supervisor": supervisor,
            "clerk_a": clerk_a,
            "signer_a": signer_a,
            "clerk_b": clerk_b,
            "clerk_w": clerk_w,
            "clerk_x": clerk_x,
            "proposer": proposer,
            "proposer_other": proposer_other,
            "anonymous": None,
        },
        proposer=proposer,
        objects=objects,
        extension=extension,
        missing_ids=missing_ids,
        jobs=job_ids,
        token=token,
        run=uuid.uuid4().hex,
    )


def admin_models() -> set[type[Model]]:
    """The models the admin's routes are about (a proxy's admin is about its model's rows)."""
    return {PROXY_MODELS.get(model, model) for model in admin.site._registry}
