"""The contact block prints its labels as the source printed them (issue 20, item 9)."""

from pathlib import Path

from replies.legacy import read_published
from replies.legacy_pdf import text_from_pdf
from replies.letter import CONTACT_LABELS, Contact, Letter
from replies.pdf import render_letter_pdf

CORPUS = Path(__file__).parent / "legacy_corpus"


def test_a_web_copy_prints_its_own_contact_labels():
    letter = read_published((CORPUS / "28_fields_below_other_labels.txt").read_text()).letter
    labels = dict(letter.labels)
    assert (labels["address"], labels["person"]) == ("承办单位通讯地址", "联系人")
    text = text_from_pdf(render_letter_pdf(letter)).replace(" ", "")
    assert "承办单位通讯地址：北汇区中山路200号" in text and "联系人：符斌" in text
    assert "联系地址：" not in text and "联系人姓名：" not in text


def test_a_letter_of_ours_prints_the_seeds_labels():
    letter = Letter(title="对提案的答复", contact=Contact(person="李明", address="长宁路599号"))
    assert letter.contact_labels == CONTACT_LABELS
    text = text_from_pdf(render_letter_pdf(letter)).replace(" ", "")
    assert "联系人姓名：李明" in text and "联系地址：长宁路599号" in text
