"""Seals and signature records. The keys are not here: they stay in files or on a token
(``signing.keys``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from signing.seals import validate_seal


def validate_seal_file(upload) -> None:
    """The uploaded seal, checked before it is stored (``signing.seals``)."""
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    validate_seal(data, getattr(upload, "name", "") or "")


class UnitSeal(models.Model):
    """A unit's seal 公章, as a transparent picture pressed on its signed letters."""

    class Kind(models.TextChoices):
        PNG = "png", "PNG"
        SVG = "svg", "SVG"

    unit = models.OneToOneField(
        "proposals.Unit", on_delete=models.CASCADE, related_name="seal", verbose_name=_("承办单位")
    )
    image = models.FileField(
        _("印章图片"),
        upload_to="seals/",
        validators=[validate_seal_file],
        help_text=_("背景透明的红色印章，PNG或SVG，宽高200至4000像素，不超过2 MB。"),
    )
    kind = models.CharField(_("格式"), max_length=3, choices=Kind.choices, editable=False)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now=True)

    class Meta:
        verbose_name = _("单位印章")
        verbose_name_plural = _("单位印章")

    def __str__(self) -> str:
        return str(self.unit)

    def clean(self) -> None:
        if self.image:
            self.image.seek(0)
            data = self.image.read()
            self.image.seek(0)
            try:
                self.kind = validate_seal(data, self.image.name or "")
            except ValidationError as exc:
                raise ValidationError({"image": exc.messages}) from exc

    def read(self) -> bytes:
        with self.image.open("rb") as handle:
            return handle.read()


class LetterSignature(models.Model):
    """What was signed into a letter's stored PDF, and whether the file still verifies."""

    class Status(models.TextChoices):
        INTACT = "intact", _("完好")
        CHANGED = "changed", _("已被改动")
        MISSING = "missing", _("文件缺失")
        UNSIGNED = "unsigned", _("未签名")

    kind = models.CharField(_("类别"), max_length=20)
    letter_id = models.PositiveBigIntegerField(_("函件编号"))
    sha256 = models.CharField(_("签名后SHA-256"), max_length=64, db_index=True)
    signers = models.CharField(_("签名者"), max_length=500, blank=True)
    seals = models.PositiveSmallIntegerField(_("印章数"), default=0)
    signed_at = models.DateTimeField(_("签名时间"))
    status = models.CharField(
        _("核验结果"), max_length=10, choices=Status.choices, default=Status.INTACT
    )
    checked_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    problem = models.CharField(_("问题"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("签发件签名")
        verbose_name_plural = _("签发件签名")
        constraints = [
            models.UniqueConstraint(fields=["kind", "letter_id"], name="one_signature_per_letter")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.letter_id}"
