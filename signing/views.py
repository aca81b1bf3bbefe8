"""The public verification page: is this PDF a letter signed here, unchanged?

Anyone may upload a PDF (or give a letter's SHA-256): the page says who signed it, when, and
whether it is intact — the same answer as ``manage.py verify_letter``. Nothing is stored, and
no letter text is shown: only what the signed file itself already tells its holder.
"""

from __future__ import annotations

import hashlib
import re

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from signing.checks import explain
from signing.models import LetterSignature
from signing.pades import verify_pdf

MAX_UPLOAD = 20 * 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("签发件PDF"), required=False)
    sha256 = forms.CharField(label=_("或SHA-256值"), required=False, max_length=64)

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("文件不能超过20 MB。"))
        return upload

    def clean_sha256(self):
        value = (self.cleaned_data.get("sha256") or "").strip().lower()
        if value and not _SHA256.match(value):
            raise forms.ValidationError(_("SHA-256值应为64位十六进制数。"))
        return value

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("file") and not data.get("sha256"):
            raise forms.ValidationError(_("请上传签发件PDF，或填写其SHA-256值。"))
        return data


@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form}
    if request.GET.get("sha256") and request.method == "GET":
        form = VerifyForm({"sha256": request.GET["sha256"]})
        context["form"] = form
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data.get("file")
        if upload:
            data = upload.read()
            digest = hashlib.sha256(data).hexdigest()
            result = verify_pdf(data)
            context.update(result=result, verdict=explain(result), checked=True)
        else:
            digest = form.cleaned_data["sha256"]
        context["digest"] = digest
        context["record"] = LetterSignature.objects.filter(sha256=digest).first()
        context["looked_up"] = True
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "signing/verify.html", context, status=status)
