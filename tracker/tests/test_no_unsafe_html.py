"""No user text reaches a page as markup.

Two halves. A source scan lists every place that can turn a string into HTML without escaping
it — ``mark_safe``, ``SafeString``, ``format_html``/``format_html_join`` whose format string is
not a literal, an ``autoescape=False`` engine, and in templates ``|safe``, ``|safeseq`` and
``{% autoescape off %}`` — and fails on any that is not in ``ALLOWED`` with the reason it is
harmless. Then a proposal and a reply whose text is an XSS payload are shown where people read
them (the admin's change pages, /my/, the API) and must come out inert.

There is no rich-text path: every field is plain text (textareas, a PDF that prints markup as
text), so nothing is cleaned with nh3; Django's ``linebreaks``/``linebreaksbr`` escape before
they add <p>/<br>.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from replies.models import Reply
from tracker.tests import my_support
from tracker.tests.my_support import handling, member, replied_proposal

BASE = Path(settings.BASE_DIR)
SKIP_DIRS = {".venv", "bench", "migrations", "node_modules", "staticfiles", "media", ".git"}

# (path, construct, source of the non-literal argument or the template text) → why it is safe.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("publication/search.py", "mark_safe", "html.escape(flat[:width])"): (
        "a search snippet with nothing to mark: the text is escaped whole"
    ),
    ("publication/search.py", "mark_safe", 'prefix + "".join(out) + suffix'): (
        "a search snippet: every stretch of the reply's text goes through html.escape, the only "
        "markup is the literal <mark> around an escaped match, and prefix/suffix are literal "
        "ellipses (publication/tests/test_snippet_escaping.py)"
    ),
    ("replies/admin/letters.py", "format_html_join", 'f"<tr>{cells}</tr>"'): (
        "cells is '<td>{}</td>' repeated once per header, built from a literal; every value "
        "goes through a {} placeholder and is escaped"
    ),
    **{
        (f"templates/emails/{name}", "autoescape off", "{% autoescape off %}"): (
            "plain-text e-mail (subject or text/plain body), never rendered as HTML; the HTML "
            "alternative is a separate, auto-escaped template"
        )
        for name in (
            "digest.txt",
            "events/assignment_created.txt",
            "events/assignment_created_subject.txt",
            "events/awaiting_signature.txt",
            "events/awaiting_signature_subject.txt",
            "events/coproposal_invited.txt",
            "events/coproposal_invited_subject.txt",
            "events/extension_decided.txt",
            "events/extension_decided_subject.txt",
            "events/feedback_not_satisfied.txt",
            "events/feedback_not_satisfied_subject.txt",
            "events/reassignment_decided.txt",
            "events/reassignment_decided_subject.txt",
            "events/reply_sent.txt",
            "events/reply_sent_subject.txt",
        )
    },
}

UNSAFE_CALLS = {"mark_safe", "SafeString", "SafeText", "format_html", "format_html_join"}
TEMPLATE_PATTERNS = {
    "|safe": re.compile(r"\|\s*safe(?!seq)\b"),
    "|safeseq": re.compile(r"\|\s*safeseq\b"),
    "autoescape off": re.compile(r"{%\s*autoescape\s+off\s*%}"),
}


def _project_files(base: Path, *suffixes: str):
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base)
        if path.suffix in suffixes and not SKIP_DIRS.intersection(rel.parts):
            yield rel.as_posix(), path


def _is_literal(node: ast.AST | None) -> bool:
    """A string literal, or literals joined with + and repeated with * (built in the code)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (str, int))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
        return _is_literal(node.left) and _is_literal(node.right)
    return False


def python_sites(base: Path = BASE) -> list[tuple[str, str, str, int]]:
    found = []
    for rel, path in _project_files(base, ".py"):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source, rel)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if any(k.arg == "autoescape" and _is_false(k.value) for k in node.keywords):
                segment = ast.get_source_segment(source, node)
                found.append((rel, "autoescape=False", segment, node.lineno))
                continue
            if name not in UNSAFE_CALLS:
                continue
            index = 1 if name == "format_html_join" else 0
            arg = node.args[index] if len(node.args) > index else None
            if name == "mark_safe" or not _is_literal(arg):
                segment = ast.get_source_segment(source, arg) if arg is not None else ""
                found.append((rel, name, segment, node.lineno))
    return found


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


COMMENT = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.S)


def _blank(match: re.Match) -> str:
    """A template comment, emptied but for its newlines (so line numbers stay right)."""
    return "\n" * match.group(0).count("\n")


def template_sites(base: Path = BASE) -> list[tuple[str, str, str, int]]:
    found = []
    for rel, path in _project_files(base, ".html", ".txt", ".xml", ".svg"):
        if "/templates/" not in f"/{rel}":
            continue
        text = COMMENT.sub(_blank, path.read_text(encoding="utf-8"))
        for lineno, line in enumerate(text.splitlines(), start=1):
            for construct, pattern in TEMPLATE_PATTERNS.items():
                for match in pattern.finditer(line):
                    found.append((rel, construct, match.group(0), lineno))
    return found


def test_every_unescaped_html_site_in_code_and_templates_is_listed_with_a_reason():
    sites = python_sites() + template_sites()
    unlisted = [
        f"{rel}:{line}: {construct} {text}"
        for rel, construct, text, line in sites
        if (rel, construct, text) not in ALLOWED
    ]
    assert not unlisted, "unescaped HTML not in ALLOWED (escape it, or add it with a reason):\n" + (
        "\n".join(unlisted)
    )
    # The list holds nothing stale either: each entry is still found.
    present = {(rel, construct, text) for rel, construct, text, _line in sites}
    assert set(ALLOWED) <= present, set(ALLOWED) - present
    assert all(len(reason) > 20 for reason in ALLOWED.values())


def test_the_scan_finds_what_it_looks_for(tmp_path):
    """The scanner itself: a file with each construct is reported (so an empty result means
    something)."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.html").write_text(
        "{# |safe in a comment is not a use #}{% comment %}nor |safe here{% endcomment %}\n"
        "{{ a|safe }} {{ b|safeseq }} {% autoescape off %}{% endautoescape %}",
        encoding="utf-8",
    )
    (tmp_path / "views.py").write_text(
        "from django.utils.html import format_html\nfrom django.utils.safestring import mark_safe\n"
        "def v(t, x):\n    return mark_safe(x), format_html(t, x), format_html('<b>{}</b>', x)\n",
        encoding="utf-8",
    )
    kinds = sorted(c for _r, c, _t, _l in python_sites(tmp_path) + template_sites(tmp_path))
    assert kinds == ["autoescape off", "format_html", "mark_safe", "|safe", "|safeseq"]


# --- The payload, where people read proposal and reply text ----------------------------------

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>"
RAW = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def hostile(db, committee, session, settings, tmp_path, monkeypatch):
    """A replied proposal whose title, reason, analysis, suggestions and reply body all carry
    the payload."""
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(my_support, "REPLY_BODY", PAYLOAD + "\n" + my_support.REPLY_BODY)
    h = handling(committee)
    proposer = member("xss_member", "张晓钟")
    done = replied_proposal(
        h, session=session, lead=proposer.proposer, title=PAYLOAD, store_pdf=False
    )
    type(done.proposal).objects.filter(pk=done.proposal.pk).update(
        reason=PAYLOAD, analysis=PAYLOAD + "\n\n" + PAYLOAD, suggestions=PAYLOAD
    )
    assert PAYLOAD in Reply.objects.get(pk=done.reply.pk).body
    return h, proposer, done


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_inert(response) -> None:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    for raw in RAW:
        assert raw not in html, f"{raw!r} reached the page unescaped"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_member_page_of_a_proposal_shows_the_payload_as_text(hostile):
    _h, proposer, done = hostile
    response = _client(proposer).get(f"/my/proposals/{done.proposal.pk}/")
    assert_inert(response)
    # linebreaks made paragraphs of the analysis, around escaped text.
    assert f"<p>{ESCAPED}</p>" in response.content.decode()


def test_the_member_page_of_a_reply_shows_the_payload_as_text(hostile):
    _h, proposer, done = hostile
    assert_inert(_client(proposer).get(f"/my/replies/{done.reply.pk}/"))


def test_the_admin_change_pages_show_the_payload_as_text(hostile):
    h, _proposer, done = hostile
    # The unit's clerk sees the proposal read-only and the signed reply read-only.
    assert_inert(_client(h.clerk).get(f"/admin/proposals/proposal/{done.proposal.pk}/change/"))
    assert_inert(_client(h.clerk).get(f"/admin/replies/reply/{done.reply.pk}/change/"))
    assert_inert(_client(h.clerk).get(f"/admin/proposals/assignment/{done.lead.pk}/change/"))
    # The committee's changelist shows the title.
    assert_inert(_client(h.committee).get("/admin/proposals/proposal/"))


def test_the_api_returns_the_payload_as_a_json_string_never_as_html(hostile):
    _h, proposer, done = hostile
    client = _client(proposer)
    for accept in ("application/json", "text/html"):
        response = client.get(f"/api/v1/me/proposals/{done.proposal.pk}/", HTTP_ACCEPT=accept)
        assert response.status_code in (200, 406)
        if response.status_code == 200:
            assert response["Content-Type"].startswith("application/json")
            assert response["X-Content-Type-Options"] == "nosniff"
            assert json.loads(response.content)["title"] == PAYLOAD
    # The browsable API is not installed: ?format=api does not render HTML.
    response = client.get(f"/api/v1/me/proposals/{done.proposal.pk}/?format=api")
    assert not response["Content-Type"].startswith("text/html")
