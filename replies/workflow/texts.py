"""The text a new draft starts from: its title, salutation, opening and closing."""

from __future__ import annotations

from proposals.models import Assignment, Proposal, Proposer
from replies.models import Reply


def co_units_cc(proposal: Proposal) -> str:
    """The 抄送 a reply starts with: the co-handling units still on the proposal, in the order
    they were assigned, as many as the field holds (the clerk may change it)."""
    limit = Reply._meta.get_field("cc").max_length or 0
    names: list[str] = []
    co = proposal.assignments.active().filter(role=Assignment.Role.CO).select_related("unit")
    for assignment in co.order_by("pk"):
        name = assignment.unit.organ_name or assignment.unit.name
        if name in names:
            continue
        if len("、".join([*names, name])) > limit:
            break
        names.append(name)
    return "、".join(names)


def proposal_number_text(proposal: Proposal) -> str:
    """``第061号`` as the title prints it, whatever the session's scheme."""
    number = proposal.number or ""
    if number.startswith("第"):
        return number
    return f"第{number}号"


def addressee(proposers: list[Proposer]) -> str:
    """Who a reply speaks to, without the colon (docs/domain.md, Salutations).

    One member ``张文浩委员``; two or three ``钱建峰、施美芳委员``; more: the first three and 等;
    a group, a party or an organisation by its name.
    """
    if not proposers:
        return ""
    lead = proposers[0]
    if lead.kind != Proposer.Kind.MEMBER:
        return lead.name
    members = [p.name for p in proposers if p.kind == Proposer.Kind.MEMBER]
    if len(members) <= 3:
        return f"{'、'.join(members)}委员"
    return f"{'、'.join(members[:3])}等委员"


def merged_addressee(proposal: Proposal) -> str:
    """Who a reply to ``proposal`` speaks to, the proposers of the proposals merged into it
    included: each still gets the reply (docs/domain.md, 并案). Groups and parties by their names,
    then the members as ``addressee`` counts them (``民建界别组、张文浩、林静委员``)."""
    proposals = [proposal, *proposal.merged_proposals.order_by("number", "pk")]
    if len(proposals) == 1:
        return addressee(proposal.proposers())
    groups: list[str] = []
    members: list[Proposer] = []
    for each in proposals:
        proposers = each.proposers()
        if proposers[0].kind != Proposer.Kind.MEMBER:
            groups.append(proposers[0].name)
        else:
            members.extend(p for p in proposers if p.kind == Proposer.Kind.MEMBER)
    unique_members = list({p.pk: p for p in members}.values())
    names = list(dict.fromkeys(groups))
    if unique_members:
        names.append(addressee(unique_members))
    return "、".join(names)


def _merged_note(proposal: Proposal) -> str:
    """``（与第062号、第075号提案并案办理）`` after the title, for proposals merged into it."""
    merged = [proposal_number_text(m) for m in proposal.merged_proposals.order_by("number", "pk")]
    return f"（与{'、'.join(merged)}提案并案办理）" if merged else ""


def draft_texts(proposal: Proposal, *, opinion_to: str = "") -> dict[str, str]:
    """Title, salutation, opening and closing a new draft starts with."""
    session = proposal.session
    who = merged_addressee(proposal)
    number = proposal_number_text(proposal)
    about = f"区政协{session.name}{number}提案"
    received = f"{who}提出的《{proposal.title}》的提案{_merged_note(proposal)}收悉"
    if opinion_to:
        return {
            "title": f"关于对{about}的会办意见",
            "salutation": f"{opinion_to}：",
            "opening": f"{received}，经研究，现提出会办意见如下：",
            "closing": "以上意见供你单位统一答复提案者时参考。",
        }
    return {
        "title": f"对{about}的答复",
        "salutation": f"{who}：",
        "opening": f"{received}，经研究，现将办理情况答复如下：",
        "closing": "感谢对我们工作的关心和支持，欢迎继续提出宝贵意见和建议。",
    }
