"""Password rules as 等保2.0 三级 asks: long enough, of several character classes, and not a
common password in disguise.

Whitespace counts for nothing: ``"          1Aa"`` is three characters long and has no symbol.
A password is also refused when what is left of it after the usual disguises — capitals,
digits and symbols around it, ``@`` for ``a``, ``0`` for ``o`` … — is a common password
(Django's list of 20,000), a keyboard walk or a Chinese word in pinyin that people pick
(``P@ssw0rd2026``, ``Woaini-2026!``, ``1qaz@WSX3edc``).
"""

from __future__ import annotations

import re

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

_CLASSES = (
    (re.compile(r"[a-z]"), "小写字母"),
    (re.compile(r"[A-Z]"), "大写字母"),
    (re.compile(r"[0-9]"), "数字"),
    # A symbol is printable and not a letter, digit or space.
    (re.compile(r"[^a-zA-Z0-9\s]"), "符号"),
)


def _meaningful(password: str) -> str:
    return re.sub(r"\s+", "", password)


class CharacterClassValidator:
    """At least ``min_classes`` of: lower case, upper case, digits, symbols (not whitespace)."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        present = sum(1 for pattern, _label in _CLASSES if pattern.search(password))
        if present < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。")
                % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("密码须包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。") % {
            "n": self.min_classes
        }


class MinimumLengthValidator:
    """At least ``min_length`` characters that are not whitespace (Django's own counts spaces,
    and its message is not ours)."""

    def __init__(self, min_length: int = 10) -> None:
        self.min_length = min_length

    def validate(self, password: str, user=None) -> None:
        if len(_meaningful(password)) < self.min_length:
            raise ValidationError(self.get_help_text(), code="password_too_short")

    def get_help_text(self) -> str:
        return ngettext(
            "密码至少 %(n)d 个字符（空格不计）。",
            "密码至少 %(n)d 个字符（空格不计）。",
            self.min_length,
        ) % {"n": self.min_length}


#: Look-alikes people put in for letters.
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s",
                       "5": "s", "7": "t", "+": "t", "8": "b", "9": "g"})  # fmt: skip

#: Keyboard walks and the pinyin words that Chinese users' leaked passwords are made of.
_WEAK_CORES = frozenset(
    """
    qwerty qwertyuiop asdfgh asdfghjkl zxcvbn zxcvbnm qazwsx qazwsxedc qweasd qweasdzxc
    abcdef abcdefg abcdefgh
    woaini aini woaiwojia nihao wanan mima mimamima zhongguo zhonghua beijing shanghai
    changning putuo baoshan yangpu jiading huangpu xuhui jingan hongkou minhang pudong
    zhengxie zhengfu tian tianban tianwei weiyuan dangpai jiebie xiaoming zhangsan lisi wangwu
    laogong laopo baobao xingfu kuaile aiai wodemima
    """.split()  # noqa: SIM905 (a word list reads better as words)
)


#: Remnants shorter than this are not compared with the lists.
MIN_CORE = 4


def _cores(password: str) -> set[str]:
    """What the password is made of once its disguises are taken off: with and without the
    look-alikes, the letters only, and a word said twice said once."""
    plain = _meaningful(password).lower()
    variants = {plain, plain.translate(_LEET)}
    cores = set()
    for variant in variants:
        cores.add(variant)
        stripped = re.sub(r"^[^a-z]+|[^a-z]+$", "", variant)  # digits and symbols around it
        cores.add(stripped)
        letters = re.sub(r"[^a-z]", "", variant)
        cores.add(letters)
        for word in (stripped, letters):
            half = len(word) // 2
            if word and len(word) % 2 == 0 and word[:half] == word[half:]:
                cores.add(word[:half])
    # A short remnant ("ab" of "9#k@2$ab!4") says nothing about the password.
    return {c for c in cores if len(c) >= MIN_CORE}


class DisguisedCommonPasswordValidator:
    """Refuses a password whose core is a common password, a keyboard walk or a common pinyin
    word, however it is dressed up."""

    def __init__(self) -> None:
        self._common = CommonPasswordValidator().passwords

    def validate(self, password: str, user=None) -> None:
        cores = _cores(password)
        if cores & _WEAK_CORES or cores & self._common:
            raise ValidationError(
                _("这个密码太常见（常用密码换了大小写、数字或符号仍然容易被猜中），请换一个。"),
                code="password_too_common",
            )

    def get_help_text(self) -> str:
        return _("不能是常用密码、键盘连续字母或常见拼音，加上数字和符号也不行。")


# --- Published passwords (the demo's) -------------------------------------------------------
#
# ``manage.py load_demo`` prints its accounts' passwords, and the README and the repository
# publish them: whoever has read them can sign in wherever the demo was loaded. With ``DEBUG``
# on (``make run``) that is the point; anywhere else such a password is refused, both when it
# is set (``PublishedPasswordValidator``) and when someone signs in with it
# (``proposals.security.PublishedPasswordBackend``). The passwords themselves are kept in one
# place only, the demo's (``settings.PUBLISHED_PASSWORDS`` names the function that lists them):
# this app knows nothing of the demo, which is built on top of it.


def published_passwords() -> frozenset[str]:
    """The passwords the project publishes: ``settings.PUBLISHED_PASSWORDS``, a list or the
    dotted path of a function that returns one (imported when first asked, not at start-up)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    source = getattr(settings, "PUBLISHED_PASSWORDS", ())
    if isinstance(source, str):
        source = import_string(source)()
    return frozenset(source)


def refuses_published(password: str | None) -> bool:
    """Whether ``password`` is a published one and may not be used here (``DEBUG`` is off)."""
    from django.conf import settings

    return bool(password) and not settings.DEBUG and password in published_passwords()


def published_password_sign_in_message() -> str:
    """What a sign-in with a published password is told (the operator must act, not the user)."""
    return _("演示账号的公开密码不能在正式环境中使用，请管理员重设密码。")


class PublishedPasswordValidator:
    """Refuses the demo's published passwords unless ``DEBUG`` is on. ``load_demo`` sets them
    with the other validators only (``tracker.demo``), so the demo still loads anywhere."""

    def validate(self, password: str, user=None) -> None:
        if refuses_published(password):
            raise ValidationError(
                _("这是演示账号的公开密码，正式环境中不能使用，请另设一个密码。"),
                code="password_published",
            )

    def get_help_text(self) -> str:
        return _("不能使用演示账号的公开密码。")
