"""A search snippet is the one place the public pages mark up a reply's text: it stays inert."""

from publication.search import snippet

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>关于停车难的答复'


def test_a_snippet_escapes_the_text_and_marks_only_the_match():
    html = str(snippet(PAYLOAD, ("停车",)))
    assert "<script" not in html and "<img" not in html and "onerror=alert(1)&gt;" in html
    assert html.count("<mark>") == 1 and "<mark>停车</mark>" in html
    short = str(snippet("<i onclick=x>停车</i>", ("停车",)))
    assert short == "&lt;i onclick=x&gt;<mark>停车</mark>&lt;/i&gt;"


def test_a_snippet_without_a_match_is_escaped_whole():
    html = str(snippet(PAYLOAD, ()))
    assert "<" not in html.replace("&lt;", "")


def test_a_search_word_that_is_markup_is_escaped_inside_its_mark():
    html = str(snippet("请见<b>附件</b>。", ("<b>",)))
    assert "<mark>&lt;b&gt;</mark>" in html and "<b>" not in html
