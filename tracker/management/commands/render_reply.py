"""``manage.py render_reply <pk> -o FILE.pdf``: the same renderer the admin, API and tasks use."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from replies.models import CoOpinion, Reply
from replies.workflow import render_pdf


class Command(BaseCommand):
    help = "把一份答复（或 --opinion 会办意见）渲染为 PDF。"

    def add_arguments(self, parser):
        parser.add_argument("pk", type=int, help="答复的编号（主键）")
        parser.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
        parser.add_argument("--opinion", action="store_true", help="渲染会办意见而不是答复")
        parser.add_argument(
            "--stored",
            action="store_true",
            help="已签发的答复输出存档的签发件（与签发时的 SHA-256 一致），而不是重新渲染",
        )

    def handle(self, *args, pk: int, output: str, opinion: bool, stored: bool, **options):
        model = CoOpinion if opinion else Reply
        try:
            obj = model.objects.select_related("unit", "signer").get(pk=pk)
        except model.DoesNotExist as exc:
            raise CommandError(f"找不到编号为 {pk} 的{model._meta.verbose_name}。") from exc
        if stored:
            if not obj.pdf:
                raise CommandError("该件尚无签发件 PDF（未签发或仍在生成中）。")
            with obj.pdf.open("rb") as fh:
                data = fh.read()
        else:
            data = render_pdf(obj)
        Path(output).write_bytes(data)
        state = "草稿预览" if obj.signed_on is None else (obj.doc_number or "已签发")
        self.stdout.write(f"已写入 {output}（{len(data) // 1024} KB，{state}）")
