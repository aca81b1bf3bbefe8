"""``manage.py render_letter FILE.txt -o FILE.pdf [--png DIR]``: a published letter's text, read
back into a Letter and laid out by the same renderer as our own replies — to compare layouts and
to check what the reader makes of a district's letter."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from replies.legacy import read_published

#: Resolution of the page images: small enough for a review or a doc page, large enough to
#: see the layout.
PNG_DPI = 50
PDFTOPPM_TIMEOUT = 60  # seconds


class Command(BaseCommand):
    help = "把一份已发布答复函的文本（UTF-8）读成公文并排版为 PDF，可另存每页 PNG。"

    def add_arguments(self, parser):
        parser.add_argument("source", help="答复函的文本文件（UTF-8）")
        parser.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
        parser.add_argument(
            "--png", metavar="DIR", help=f"另把每页存为 PNG（{PNG_DPI} dpi）放进这个目录"
        )
        parser.add_argument("--force", action="store_true", help="读出来不是提案答复时也照样排版")
        parser.add_argument("--draft", action="store_true", help="加“草稿”水印")

    def handle(self, *args, source: str, output: str, png: str | None, force: bool, **options):
        if options.get("verbosity", 1) < 2:
            # WeasyPrint logs each layout step at INFO (and its stylesheets on import): keep
            # stderr for the reader's warnings.
            logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
        from replies.pdf import LetterTooLarge, render_letter_pdf

        text = _read_text(Path(source))
        result = read_published(text)
        for warning in result.warnings:
            self.stderr.write(f"警告：{warning}")
        if not result.is_reply and not force:
            reason = next(
                (w for w in result.warnings if w.startswith("这不是提案答复")), "这不是提案答复"
            )
            raise CommandError(f"{reason}。未排版；如仍要排版，请加 --force。")
        if result.empty_body:
            raise CommandError("正文为空，未排版：这份文本里没有读出答复的正文。")
        letter = result.letter
        if options.get("draft"):
            letter = dataclasses.replace(letter, draft=True)
        try:
            data = render_letter_pdf(letter)
        except LetterTooLarge as exc:
            raise CommandError(f"文本太长，不像一份答复函，未排版：{exc}") from exc
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"输出目录不存在：{target.parent}")
        target.write_bytes(data)
        self.stdout.write(f"已写入 {target}（{len(data) // 1024} KB）")
        if png:
            pages = _write_pngs(target, Path(png))
            self.stdout.write(
                f"已写入 {len(pages)} 页 PNG 到 {png}：{', '.join(p.name for p in pages)}"
            )


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise CommandError(f"找不到文件：{path}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"文件不是 UTF-8 编码的文本：{path}") from exc


def _write_pngs(pdf: Path, directory: Path) -> list[Path]:
    """``pdftoppm -png -r 50``: one ``<pdf stem>-<page>.png`` per page in ``directory``."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise CommandError("找不到 pdftoppm（请安装 poppler-utils），PNG 未生成；PDF 已写入。")
    directory.mkdir(parents=True, exist_ok=True)
    # pdftoppm pads page numbers to the page count's width: render into a scratch directory
    # and move the pages over, so that only this letter's pages are reported.
    with tempfile.TemporaryDirectory() as scratch:
        command = [pdftoppm, "-png", "-r", str(PNG_DPI), str(pdf), str(Path(scratch) / pdf.stem)]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=PDFTOPPM_TIMEOUT)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            raise CommandError(
                f"pdftoppm 出错，PNG 未生成：{detail.decode(errors='replace').strip()}"
            ) from exc
        pages = []
        for image in sorted(Path(scratch).glob("*.png"), key=_page_number):
            destination = directory / image.name
            shutil.move(image, destination)
            pages.append(destination)
    return pages


def _page_number(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[-1])
