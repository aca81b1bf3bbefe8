"""Reads of the public side: what the pages list, the filters they offer, a reply's metadata.

Visibility is ``Reply.objects.published()`` (the API's rule); a withdrawn reply is one a sent
correction superseded after it was published (``replies.api.views``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from proposals.models import Session, Unit
from publication.models import PublicText
from publication.search import public_texts
from replies.api.serializers import withdrawing_correction
from replies.api.views import published_and_withdrawn_replies, published_replies
from replies.letter import parse_body
from replies.models import Reply, ResultClass

PAGE_SIZE = 20


def public_replies() -> QuerySet[Reply]:
    return published_replies().select_related("public_text").order_by("-published_on", "-id")


def withdrawn_reply(pk: int) -> tuple[Reply, Reply] | None:
    """``(reply, correction)`` when ``pk`` was published and a sent correction withdrew it."""
    reply = published_and_withdrawn_replies().filter(pk=pk).first()
    if reply is None:
        return None
    correction = withdrawing_correction(reply)
    return (reply, correction) if correction is not None else None


@dataclass(frozen=True)
class Filters:
    session: int | None = None
    unit: int | None = None
    year: int | None = None
    result: str = ""

    @classmethod
    def from_query(cls, data) -> Filters:
        def number(name: str) -> int | None:
            value = (data.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 10 else None

        result = (data.get("result") or "").strip()
        return cls(
            session=number("session"),
            unit=number("unit"),
            year=number("year"),
            result=result if result in ResultClass.values else "",
        )

    def apply(self, qs: QuerySet[Reply]) -> QuerySet[Reply]:
        if self.session:
            qs = qs.filter(proposal__session_id=self.session)
        if self.unit:
            qs = qs.filter(unit_id=self.unit)
        if self.year:
            qs = qs.filter(signed_on__year=self.year)
        if self.result:
            qs = qs.filter(result_class=self.result)
        return qs


def filter_choices() -> dict:
    """What the list's filters offer: only values some published reply has."""
    published = published_replies()
    sessions = Session.objects.filter(pk__in=published.values("proposal__session_id")).order_by(
        "-year", "-term", "-meeting"
    )
    units = Unit.objects.filter(pk__in=published.values("unit_id")).order_by("name")
    years = sorted({d.year for d in published.dates("signed_on", "year")}, reverse=True)
    return {
        "sessions": [(s.pk, s.name) for s in sessions],
        "units": [(u.pk, u.name) for u in units],
        "years": years,
        "results": list(ResultClass.choices),
    }


def index_number(reply: Reply) -> str:
    """索引号: the unit, the year and the reply's number, stable for the reply's life."""
    year = reply.signed_on.year if reply.signed_on else reply.created_at.year
    return f"ZXTA-{reply.unit_id:04d}/{year}-{reply.pk:06d}"


def metadata(reply: Reply) -> list[tuple[str, str]]:
    """The 政务公开 metadata, in the order portals print it."""
    proposal = reply.proposal
    return [
        ("索引号", index_number(reply)),
        ("发布机构", reply.unit.organ_name or reply.unit.name),
        ("文号", reply.doc_number or "—"),
        ("成文日期", _date(reply.signed_on)),
        ("公开日期", _date(reply.published_on)),
        ("主题分类", proposal.get_category_display()),
        ("公开方式", reply.get_disclosure_display()),
        ("办理结果", reply.result_label or "—"),
        ("届次", proposal.session.name),
        ("提案号", proposal.number or "—"),
    ]


def _date(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "—"


def body_blocks(reply: Reply) -> list:
    texts = public_texts(reply)
    return list(parse_body(texts["body"] + ("\n" + texts["closing"] if texts["closing"] else "")))


def has_public_text(reply: Reply) -> bool:
    try:
        return reply.public_text is not None
    except PublicText.DoesNotExist:
        return False


def today():
    return timezone.localdate()
