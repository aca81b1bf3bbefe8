"""factory_boy factories for the base app. Statuses are set here only to build test states
that the workflow itself is not under test for; tests of transitions start from these."""

import datetime

import factory
from factory.django import DjangoModelFactory

from proposals.models import (
    Assignment,
    CoProposer,
    DueDate,
    Membership,
    Proposal,
    Proposer,
    Session,
    Unit,
    User,
)

PASSWORD = "Quill-Ward-2026"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CommitteeFactory(UserFactory):
    office = User.Office.COMMITTEE
    username = factory.Sequence(lambda n: f"committee{n}")


class SupervisorFactory(UserFactory):
    office = User.Office.SUPERVISION
    username = factory.Sequence(lambda n: f"supervisor{n}")


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"测试区第{n}局")
    short_name = factory.Sequence(lambda n: f"第{n}局")
    organ_name = factory.LazyAttribute(lambda o: f"上海市{o.name}")
    docno_prefix = factory.Sequence(lambda n: f"测{n}")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)
    role = Membership.Role.CLERK


class SessionFactory(DjangoModelFactory):
    class Meta:
        model = Session

    district = "长宁"
    term = 15
    meeting = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda o: f"{o.term}届{o.meeting}次会议")
    year = 2024


class ProposerFactory(DjangoModelFactory):
    class Meta:
        model = Proposer

    kind = Proposer.Kind.MEMBER
    name = factory.Sequence(lambda n: f"委员{n}")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    email = factory.Sequence(lambda n: f"member{n}@example.org")


class ProposalFactory(DjangoModelFactory):
    class Meta:
        model = Proposal

    session = factory.SubFactory(SessionFactory)
    title = factory.Sequence(lambda n: f"关于第{n}项工作的建议")
    lead_proposer = factory.SubFactory(ProposerFactory)
    reason = "案由说明"
    status = Proposal.Status.SUBMITTED


class CoProposerFactory(DjangoModelFactory):
    class Meta:
        model = CoProposer

    proposal = factory.SubFactory(ProposalFactory)
    proposer = factory.SubFactory(ProposerFactory)
    position = factory.Sequence(lambda n: n + 1)


class AssignmentFactory(DjangoModelFactory):
    class Meta:
        model = Assignment

    proposal = factory.SubFactory(ProposalFactory, status=Proposal.Status.ASSIGNED)
    unit = factory.SubFactory(UnitFactory)
    role = Assignment.Role.LEAD
    assigned_on = datetime.date(2024, 3, 1)


class DueDateFactory(DjangoModelFactory):
    class Meta:
        model = DueDate

    assignment = factory.SubFactory(AssignmentFactory)
    clock = DueDate.Clock.REPLY
    start_on = datetime.date(2024, 3, 1)
    rule = "3,months"
    due_on = datetime.date(2024, 6, 3)
    explanation = "交办 2024-03-01 + 3个月 = 2024-06-01 周六 → 顺延 2024-06-03"
