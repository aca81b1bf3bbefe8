"""``manage.py render_letter``: a published letter's text to our PDF (and page images)."""

from __future__ import annotations

import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from replies.seeds import seed_path


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("render_letter", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_seed_reply_is_rendered_with_its_warnings_on_stderr(tmp_path):
    target = tmp_path / "001.pdf"

    out, err = run(str(seed_path("001")), "-o", str(target))

    assert target.read_bytes().startswith(b"%PDF-")
    assert f"已写入 {target}" in out
    assert err.splitlines() == ["警告：未找到签发人"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_png_pages_are_written_next_to_the_pdf(tmp_path):
    target = tmp_path / "letter.pdf"
    pages = tmp_path / "pages"

    out, _ = run(str(seed_path("001")), "-o", str(target), "--png", str(pages))

    names = sorted(p.name for p in pages.iterdir())
    assert names == [f"letter-{n}.png" for n in range(1, len(names) + 1)]
    assert len(names) >= 2
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pages.iterdir())
    assert f"已写入 {len(names)} 页 PNG" in out


def test_a_policy_notice_is_refused_with_the_reason(tmp_path):
    target = tmp_path / "004.pdf"

    with pytest.raises(CommandError, match="这不是提案答复：标题中没有“提案”") as caught:
        run(str(seed_path("004")), "-o", str(target))

    assert "--force" in str(caught.value)
    assert not target.exists()


def test_force_renders_a_document_that_is_not_a_reply(tmp_path):
    target = tmp_path / "004.pdf"

    _, err = run(str(seed_path("004")), "-o", str(target), "--force")

    assert target.read_bytes().startswith(b"%PDF-")
    assert "警告：这不是提案答复：" in err


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"找不到文件：.*nowhere\.txt"):
        run(str(tmp_path / "nowhere.txt"), "-o", str(tmp_path / "x.pdf"))


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    source = tmp_path / "gbk.txt"
    source.write_bytes("对区政协十五届二次会议第061号提案的答复".encode("gbk"))

    with pytest.raises(CommandError, match="不是 UTF-8"):
        run(str(source), "-o", str(tmp_path / "x.pdf"))


def test_an_output_directory_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="输出目录不存在"):
        run(str(seed_path("001")), "-o", str(tmp_path / "missing" / "x.pdf"))


def test_a_letter_without_a_body_is_refused(tmp_path):
    source = tmp_path / "empty.txt"
    source.write_text(
        "关于对区政协十五届二次会议第061号提案的答复\n张文浩委员：\n上海市长宁区投资促进办公室\n"
        "2024年4月25日\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="正文为空"):
        run(str(source), "-o", str(tmp_path / "out.pdf"))
    assert not (tmp_path / "out.pdf").exists()
