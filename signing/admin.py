from __future__ import annotations

from django.contrib import admin

from proposals.admin.access import OfficeAdmin, _is_committee, _sees_everything, _unit_ids
from proposals.models import unit_ids_of
from signing.models import LetterSignature, UnitSeal
from signing.workflow import save_seal


@admin.register(UnitSeal)
class UnitSealAdmin(admin.ModelAdmin):
    """Seals: the committee's staff upload any unit's, a unit's members their own."""

    list_display = ("unit", "kind", "uploaded_at")
    fields = ("unit", "image", "kind", "uploaded_at")
    readonly_fields = ("kind", "uploaded_at")

    def save_model(self, request, obj, form, change) -> None:
        save_seal(obj, actor=request.user)

    # The committee and a unit's own staff manage its seal; the supervision office looks; any
    # other unit's seal is not there for them (the queryset), like a missing id.
    def has_module_permission(self, request):
        return _sees_everything(request) or bool(_unit_ids(request))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return _is_committee(request) or bool(_unit_ids(request))

    def has_change_permission(self, request, obj=None):
        if _is_committee(request):
            return True
        units = _unit_ids(request)
        return bool(units) and (obj is None or obj.unit_id in units)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("unit")
        if request.user.is_superuser or request.user.sees_everything:
            return qs
        return qs.filter(unit_id__in=unit_ids_of(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        everything = request.user.is_superuser or request.user.sees_everything
        if db_field.name == "unit" and not everything:
            field.queryset = field.queryset.filter(pk__in=unit_ids_of(request.user))
        return field


@admin.register(LetterSignature)
class LetterSignatureAdmin(OfficeAdmin):
    """Read-only: what was signed, and the last check of the stored file; the committee and
    the supervision office read it, nobody else (as an audit row)."""

    list_display = ("kind", "letter_id", "signers", "seals", "signed_at", "status", "checked_at")
    list_filter = ("status", "kind")
    search_fields = ("sha256", "signers")
    readonly_fields = [f.name for f in LetterSignature._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
