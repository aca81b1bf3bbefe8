"""The letter editor's seal warning: a letter whose organ has no seal uploaded is signed
without one (never with a made-up seal), and the clerk and signer are told before signing."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.translation import gettext as _

from signing import keys
from signing.stamping import missing_seals

register = template.Library()


@register.simple_tag
def seal_warning(letter) -> str:
    if letter is None or getattr(letter, "pk", None) is None or not hasattr(letter, "unit"):
        return ""
    notes = []
    missing = missing_seals(letter)
    signed = letter.signed_on is not None
    if missing:
        text = (
            _("签发件未加盖印章：%(organs)s尚未上传印章。")
            if signed
            else _("%(organs)s尚未上传印章，签发件将不加盖印章。请在“单位印章”中上传。")
        )
        notes.append(text % {"organs": "、".join(missing)})
    if not keys.has_key(letter.unit_id):
        notes.append(_("未配置电子签名证书，签发件将不带数字签名。"))
    return format_html_join("", '<p class="letter-note">{}</p>', ((n,) for n in notes))
