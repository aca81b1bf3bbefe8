"""``manage.py seal_samples DIR``: the joint-letter pictures of docs/letters/ — seed 001 as a
joint letter of two, three and five organs (seal_joint_two.png, seal_joint_three.png,
seal_joint_five.png: two rows), rendered sealed (``Letter.sealed``: the names side by side, GB/T
9704 §7.3.5.2), sealed with 演示 seals and signed with a throw-away CA, the page of the 落款 at
60 dpi (``pdftoppm``). The single-seal picture (seal_demo_001_last_page.png) is the demo's own
stored letter."""

from __future__ import annotations

import datetime
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from django.core.management.base import BaseCommand
from django.test import override_settings

from replies.legacy import read_letter
from replies.letter import Letter
from replies.renderer import render_letter_pdf
from replies.seeds import seed_text
from signing import artwork, certificates, keys, pades, placement, seals

JOINT = ("上海市普陀区发展和改革委员会", "上海市普陀区财政局", "上海市普陀区商务委员会")
MORE = ("上海市普陀区科学技术委员会", "上海市普陀区教育局")


class Command(BaseCommand):
    help = "Write docs/letters/seal_joint_*.png: joint letters with 2, 3 and 5 seals."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", nargs="?", default="docs/letters")

    def handle(self, *args, directory: str, **options) -> None:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        seed, _warnings = read_letter(seed_text("001"))
        joint = replace(
            seed,
            organs=JOINT,
            signature_organ=JOINT[0],
            date=datetime.date(2024, 6, 3),
            printed_on=datetime.date(2024, 6, 3),
            sealed=True,
        )
        letters = {
            "seal_joint_two": replace(joint, organs=JOINT[:2], signature_organs=JOINT[:2]),
            "seal_joint_three": replace(joint, signature_organs=JOINT),
            "seal_joint_five": replace(joint, signature_organs=JOINT + MORE),
        }
        with tempfile.TemporaryDirectory() as tmp:
            ca = certificates.make_ca("提案办理系统演示CA（仅供演示）")
            certificates.issue_certificate(ca, "区政协提案办理系统（演示）").write(
                Path(tmp), "district"
            )
            with override_settings(SIGNING_KEYS_DIR=tmp):
                for name, letter in letters.items():
                    self._picture(letter, out / f"{name}.png", Path(tmp))
                    self.stdout.write(f"{out / name}.png")

    def _picture(self, letter: Letter, target: Path, tmp: Path) -> None:
        pdf = render_letter_pdf(letter)
        organs = letter.signing_organs
        where = placement.seal_placement(pdf, organs, letter.date_text)
        signatures = [
            pades.SealedSignature(
                keys.key_source(None),
                f"Seal{n}",
                where.page,
                box,
                seals.seal_picture(artwork.draw_seal(organ), "png"),
            )
            for n, (organ, box) in enumerate(zip(organs, where.boxes, strict=True), 1)
        ]
        signed = tmp / "signed.pdf"
        signed.write_bytes(pades.sign_pdf(pdf, signatures))
        page = str(where.page + 1)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                page,
                "-l",
                page,
                "-singlefile",
                str(signed),
                str(target.with_suffix("")),
            ],
            check=True,
        )
