"""The text a new draft starts from: its title, salutation, opening and closing."""

from __future__ import annotations

from proposals.models import Proposal, Proposer


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


def draft_texts(proposal: Proposal, *, opinion_to: str = "") -> dict[str, str]:
    """Title, salutation, opening and closing a new draft starts with."""
    session = proposal.session
    who = addressee(proposal.proposers())
    number = proposal_number_text(proposal)
    about = f"区政协{session.name}{number}提案"
    if opinion_to:
        return {
            "title": f"关于对{about}的会办意见",
            "salutation": f"{opinion_to}：",
            "opening": f"{who}提出的《{proposal.title}》的提案收悉，经研究，现提出会办意见如下：",
            "closing": "以上意见供你单位统一答复提案者时参考。",
        }
    return {
        "title": f"对{about}的答复",
        "salutation": f"{who}：",
        "opening": f"{who}提出的《{proposal.title}》的提案收悉，经研究，现将办理情况答复如下：",
        "closing": "感谢对我们工作的关心和支持，欢迎继续提出宝贵意见和建议。",
    }
