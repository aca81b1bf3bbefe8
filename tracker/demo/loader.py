"""Building the demo (``tracker.demo``): groups and their permissions, units, logins, sessions,
proposers, the seed proposals replayed through the workflow, then the synthetic session
(``tracker.demo.stories``) and the letters (``tracker.demo.replies``), in one transaction.

Idempotent: every object is looked up by its natural key first (usernames, unit names,
(district, term, meeting) of sessions, (kind, name) of proposers, (session, number) of the seed
proposals and (session, title) of the synthetic ones) and an object that exists is left exactly as
it is, so a second run creates nothing and changes nothing.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import (
    validate_password,
)
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from proposals import events, workflow
from proposals.models import (
    Assignment,
    ContactRecord,
    Membership,
    Proposal,
    Proposer,
    Session,
    Unit,
    User,
)
from proposals.workdays import WorkCalendar
from tracker.demo import replies as demo_replies
from tracker.demo.data import (
    ALL_PROPOSERS,
    CO,
    COMMITTEE_GROUP,
    CURRENT_SESSION,
    DEMO_TODAY,
    DEMO_USERS,
    LEAD,
    SEED_PROPOSALS,
    SESSIONS,
    SUPERVISION_GROUP,
    UNIT_STAFF_GROUP,
    UNITS,
    ProposerKey,
    SessionKey,
    UserSpec,
    _strength_validators,
    proposer_contact,
)
from tracker.demo.replies import at, story_clock
from tracker.demo.signing import load_demo_signing
from tracker.demo.stories import (
    SyntheticStories,
)
from tracker.demo.synthetic import (
    CONTACT_NOTES,
)
from tracker.demo.texts import (
    PROPOSAL_TEXTS,
)
from tracker.mail import members as member_notices

# --- Permissions ----------------------------------------------------------------------------

#: Unit staff: view and handle their assignments, log contacts, read the proposal.
UNIT_STAFF_PERMISSIONS = (
    "view_assignment",
    "change_assignment",
    "view_contactrecord",
    "add_contactrecord",
    "change_contactrecord",
    "view_proposal",
    "view_duedate",
    "view_extension",
)


def _group_permissions(name: str) -> list[Permission]:
    proposals = Permission.objects.filter(content_type__app_label="proposals")
    if name == COMMITTEE_GROUP:
        # Everything in the proposals app except editing accounts: change_user would let the
        # committee make anyone a superuser through the admin.
        user_ct = ContentType.objects.get_for_model(User)
        return list(
            proposals.exclude(
                content_type=user_ct, codename__in=["add_user", "change_user", "delete_user"]
            )
        )
    if name == SUPERVISION_GROUP:
        return list(proposals.filter(codename__startswith="view_"))
    return list(proposals.filter(codename__in=UNIT_STAFF_PERMISSIONS))


# --- The loader -----------------------------------------------------------------------------


@dataclass
class DemoReport:
    created: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    users: list[tuple[UserSpec, bool]] = field(default_factory=list)  # (spec, password is set)


class _Loader(SyntheticStories):
    def __init__(self, *, reset_passwords: bool = False) -> None:
        self.reset_passwords = reset_passwords
        self.report = DemoReport()
        self.calendar = WorkCalendar()
        self.units: dict[str, Unit] = {}
        self.sessions: dict[SessionKey, Session] = {}
        self.proposers: dict[ProposerKey, Proposer] = {}
        self.users: dict[str, User] = {}
        self.clerks: dict[str, User] = {}

    # --- reference data ----------------------------------------------------------------------

    def load(self) -> DemoReport:
        self.load_groups()
        self.load_units()
        load_demo_signing(self.units.values())  # demo CA, certificates and 演示 seals
        self.load_users()
        self.load_sessions()
        self.load_proposers()
        self.link_proposer_users()
        self.load_seed_proposals()
        self.load_synthetic_proposals()
        demo_replies.load_seed_replies(committee=self.committee, count=self._count)
        demo_replies.load_synthetic_replies(
            session=self.sessions[CURRENT_SESSION],
            committee=self.committee,
            count=self._count,
            today=DEMO_TODAY,
        )
        return self.report

    def _count(self, what: str, created: bool) -> None:
        (self.report.created if created else self.report.skipped)[what] += 1

    def load_groups(self) -> None:
        for name in (COMMITTEE_GROUP, SUPERVISION_GROUP, UNIT_STAFF_GROUP):
            group, created = Group.objects.get_or_create(name=name)
            self._count("group", created)
            if created:
                group.permissions.set(_group_permissions(name))

    def load_units(self) -> None:
        for spec in UNITS:
            unit, created = Unit.objects.get_or_create(
                name=spec.name,
                defaults={
                    "short_name": spec.short_name,
                    "organ_name": spec.organ_name,
                    "docno_prefix": spec.docno_prefix,
                    "letter_format": spec.letter_format,
                    "address": spec.address,
                    "postcode": spec.postcode,
                    "phone": spec.phone,
                    "contact_name": spec.contact_name,
                    "contact_phone": spec.contact_phone,
                },
            )
            self._count("unit", created)
            self.units[spec.code] = unit

    def load_users(self) -> None:
        groups = {g.name: g for g in Group.objects.filter(name__in=self._group_names())}
        for spec in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=spec.username,
                defaults={
                    "full_name": spec.full_name,
                    "email": f"{spec.username}@example.org",
                    "office": spec.office,
                    "phone": spec.phone,
                    "is_staff": spec.is_staff or spec.is_superuser,
                    "is_superuser": spec.is_superuser,
                },
            )
            self._count("user", created)
            if created or self.reset_passwords:
                validate_password(spec.password, user, password_validators=_strength_validators())
                user.set_password(spec.password)
                user.save(update_fields=["password"])
            self.report.users.append((spec, created or self.reset_passwords))
            if created:
                user.groups.add(*(groups[name] for name in spec.groups))
            if spec.membership:
                _m, m_created = Membership.objects.get_or_create(
                    user=user, unit=self.units[spec.unit], role=spec.membership
                )
                self._count("membership", m_created)
                if spec.membership == Membership.Role.CLERK:
                    self.clerks.setdefault(spec.unit, user)
            self.users[spec.username] = user
        missing = {u.code for u in UNITS} - set(self.clerks)
        if missing:
            raise RuntimeError(f"units without a demo clerk: {sorted(missing)}")

    @staticmethod
    def _group_names() -> set[str]:
        return {name for spec in DEMO_USERS for name in spec.groups}

    @property
    def committee(self) -> User:
        return self.users["committee"]

    def load_sessions(self) -> None:
        for spec in SESSIONS:
            session, created = Session.objects.get_or_create(
                district=spec.district,
                term=spec.term,
                meeting=spec.meeting,
                defaults={
                    "name": spec.name,
                    "year": spec.year,
                    "number_template": spec.number_template,
                },
            )
            self._count("session", created)
            self.sessions[spec.key] = session

    def load_proposers(self) -> None:
        for index, spec in enumerate(ALL_PROPOSERS):
            # (kind, name) is not unique in the database: take the oldest if there are several.
            proposer = (
                Proposer.objects.filter(kind=spec.kind, name=spec.name).order_by("pk").first()
            )
            created = proposer is None
            if created:
                proposer = Proposer.objects.create(
                    kind=spec.kind,
                    name=spec.name,
                    sector=spec.sector,
                    **proposer_contact(index, spec),
                )
            self._count("proposer", created)
            self.proposers[spec.key] = proposer

    def link_proposer_users(self) -> None:
        """Every proposer has an account: it drafts and submits its proposals and confirms its
        co-signatures itself. The proposers among ``DEMO_USERS`` have theirs; every other one
        gets an account without a password (nobody signs in to it in the demo) — a member's
        own, or the collective account of a group or party."""
        for spec in DEMO_USERS:
            if spec.proposer is None:
                continue
            proposer = self.proposers[spec.proposer]
            user = self.users[spec.username]
            if proposer.user_id is None and not Proposer.objects.filter(user=user).exists():
                proposer.user = user
                proposer.save(update_fields=["user"])
        for spec in ALL_PROPOSERS:
            proposer = self.proposers[spec.key]
            if proposer.user_id is not None:
                continue
            user, created = User.objects.get_or_create(
                username=spec.login,
                defaults={
                    "full_name": spec.name,
                    "email": f"{spec.login}@example.org",
                    "is_staff": False,
                },
            )
            self._count("user", created)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            elif user.is_staff or user.office or Proposer.objects.filter(user=user).exists():
                raise RuntimeError(f"提案者 {spec.name} 的用户名 {spec.login} 已被其他账号使用")
            proposer.user = user
            proposer.save(update_fields=["user"])

    # --- proposals: shared steps ---------------------------------------------------------------
    #
    # Each step runs under the story's clock (``demo_replies.story_clock``), on its day in the
    # record's history and at the hour people do it: drafting at 10:00, co-signers confirming
    # the afternoon before the submission at 09:00, the committee's decisions at 15:00, a unit
    # signing for an assignment at 10:00 and logging a contact at 17:00 the day it happened.

    def _proposer_user(self, proposer: Proposer) -> User:
        return User.objects.get(pk=proposer.user_id)

    def _new_proposal(
        self,
        session: Session,
        title: str,
        category: str,
        lead: ProposerKey,
        co: tuple[ProposerKey, ...],
        *,
        drafted_on: datetime.date,
        **extra,
    ) -> Proposal:
        """The lead proposer drafts the proposal on ``drafted_on``, inviting the co-signers."""
        text = PROPOSAL_TEXTS[title]
        with story_clock(at(drafted_on, 10)):
            proposal = workflow.draft_proposal(
                actor=self._proposer_user(self.proposers[lead]),
                session=session,
                title=title,
                category=category,
                analysis=text.analysis,
                suggestions=text.suggestions,
                coproposers=[self.proposers[key] for key in co],
            )
        if extra:
            # The committee's designation (重点提案), in place before the proposal is assigned.
            Proposal.objects.filter(pk=proposal.pk).update(**extra)
            proposal.refresh_from_db()
        self._count("proposal", True)
        return proposal

    def _submit(self, proposal: Proposal, on: datetime.date, *, again: bool = False) -> None:
        """The co-signers confirm the afternoon before; the lead proposer (re)submits at 09:00."""
        links = proposal.coproposer_links.filter(confirmed_at__isnull=True).select_related(
            "proposer"
        )
        for i, link in enumerate(links):
            with story_clock(at(on - datetime.timedelta(days=1), 16, 5 * i)):
                workflow.confirm_coproposal(proposal, actor=self._proposer_user(link.proposer))
        verb = workflow.resubmit_proposal if again else workflow.submit_proposal
        with story_clock(at(on, 9)):
            verb(proposal, actor=self._proposer_user(proposal.lead_proposer))

    def _file(self, proposal: Proposal, on: datetime.date, note: str = "") -> None:
        with story_clock(at(on, 15)):
            workflow.file_proposal(proposal, actor=self.committee, note=note)

    def _file_as(self, proposal: Proposal, serial: int, on: datetime.date) -> None:
        """File a historical proposal under its real serial (see the module docstring)."""
        session = Session.objects.select_for_update().get(pk=proposal.session_id)
        previous = session.last_serial
        Session.objects.filter(pk=session.pk).update(last_serial=serial - 1)
        self._file(proposal, on, note="历史数据导入")
        Session.objects.filter(pk=session.pk).update(last_serial=max(previous, serial))

    def _decision_day(self, asked_on: datetime.date) -> datetime.date:
        """The committee answers a request on the next working day."""
        return self.calendar.next_workday(asked_on + datetime.timedelta(days=1))

    def _assign(
        self, proposal: Proposal, units: list[tuple[str, str]], on: datetime.date
    ) -> list[Assignment]:
        with story_clock(at(on, 10)):
            return workflow.assign_proposal(
                proposal,
                actor=self.committee,
                units=[(self.units[code], role) for code, role in units],
                assigned_on=on,
            )

    def _accept(self, assignment: Assignment) -> datetime.date:
        """The unit signs for it the working day after it was assigned."""
        on = self.calendar.next_workday(assignment.assigned_on + datetime.timedelta(days=1))
        with story_clock(at(on, 10)):
            workflow.accept_assignment(assignment, actor=self.clerks[self._code(assignment)])
        return on

    def _code(self, assignment: Assignment) -> str:
        return next(code for code, unit in self.units.items() if unit.pk == assignment.unit_id)

    def _contact(
        self,
        assignment: Assignment,
        on: datetime.date,
        method: str,
        *,
        latest: datetime.date = DEMO_TODAY - datetime.timedelta(days=1),
    ) -> ContactRecord:
        """A contact on ``on`` — not after ``latest``, not before the unit signed for the
        proposal, on a working day if there is one in between — logged at the end of that day."""
        accepted_at = Assignment.objects.values_list("accepted_at", flat=True).get(pk=assignment.pk)
        accepted_on = timezone.localdate(accepted_at)
        on = max(min(on, latest), accepted_on)
        if self.calendar.next_workday(on) <= latest:
            on = self.calendar.next_workday(on)
        elif self._workday_on_or_before(on) >= accepted_on:
            on = self._workday_on_or_before(on)
        clerk = self.clerks[self._code(assignment)]
        proposers = assignment.proposal.proposers()
        with story_clock(at(on, 17)):
            record = workflow.log_contact(
                assignment,
                actor=clerk,
                contacted_on=on,
                method=method,
                proposers=proposers,
                participants="、".join([clerk.full_name, *(p.name for p in proposers)]),
                notes=CONTACT_NOTES[method],
            )
        self._count("contact", True)
        return record

    def _workday_on_or_before(self, d: datetime.date) -> datetime.date:
        while not self.calendar.is_workday(d):
            d -= datetime.timedelta(days=1)
        return d

    # --- the seed proposals ------------------------------------------------------------------

    def load_seed_proposals(self) -> None:
        for spec in SEED_PROPOSALS:
            session = self.sessions[spec.session]
            if session.format_number(spec.serial) != spec.number:
                raise ValueError(
                    f"{spec.source}: {session} 的编号格式给出 {session.format_number(spec.serial)}"
                    f"，信中是 {spec.number}"
                )
            if Proposal.objects.filter(session=session, number=spec.number).exists():
                self._count("proposal", False)
                continue
            # Submitted three weeks and filed one week before it was assigned.
            submitted_on = spec.assigned_on - datetime.timedelta(days=21)
            lead, *co = spec.proposers
            proposal = self._new_proposal(
                session,
                spec.title,
                Proposal.Category.ECONOMY,
                lead,
                tuple(co),
                drafted_on=submitted_on - datetime.timedelta(days=3),
            )
            self._submit(proposal, submitted_on)
            self._file_as(proposal, spec.serial, spec.assigned_on - datetime.timedelta(days=7))
            units = [(spec.lead_unit, LEAD)] + [(code, CO) for code in spec.co_units]
            lead_assignment, *others = self._assign(proposal, units, spec.assigned_on)
            for assignment in (lead_assignment, *others):
                self._accept(assignment)
            # The lead unit met the proposers two weeks in (synthetic: the letters do not say).
            met_on = self.calendar.next_workday(spec.assigned_on + datetime.timedelta(days=14))
            self._contact(lead_assignment, met_on, ContactRecord.Method.MEETING, latest=met_on)


def load_demo(*, reset_passwords: bool = False) -> DemoReport:
    """Create whatever of the demo data is missing, in one transaction."""
    # The demo's history happened "long ago": nobody is to be notified of it.
    with events.silenced(), transaction.atomic():
        report = _Loader(reset_passwords=reset_passwords).load()
        # Nor by the members' notices, which sweep the audit trail (tracker.mail.members).
        member_notices.skip_history()
        return report
