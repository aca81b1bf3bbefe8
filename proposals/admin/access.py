"""Who sees and changes what in the admin: one place, used by every admin of every app.

- Access follows the user's office, not Django's per-model permissions: the committee (or a
  superuser) may change things; the supervision office sees everything and changes nothing;
  a unit's clerks and signers see only their unit's work (each model's ``visible_to``).
- What a user may not see does not exist for them: ``get_queryset`` is the model's
  ``visible_to``, so change, history and delete pages, actions, autocomplete and the custom
  views (which all load through it) answer for another unit's object exactly as for an id that
  was never used. Foreign-key and many-to-many choices are narrowed the same way.
- Proposers' and users' contact details are private: no changelist lookup may reach them
  through a relation (``?lead_proposer__mobile=…`` is refused with 400), whatever the filters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

from proposals.models import Proposal, Proposer, User

if TYPE_CHECKING:
    from django import forms
    from django.contrib.admin.options import BaseModelAdmin, InlineModelAdmin

    # The admins' mixins (and their forms'): typed as what they go on for mypy, plain classes
    # at run time.
    _AdminBase = BaseModelAdmin[Any]
    _ModelAdminBase = admin.ModelAdmin[Any]
    _InlineBase = InlineModelAdmin[Any, Any]
    _ModelFormBase = forms.ModelForm[Any]
else:
    _AdminBase = _ModelAdminBase = _InlineBase = _ModelFormBase = object

T = TypeVar("T")

#: Fields nobody may filter or search on through the admin's URLs (docs/domain.md, Publication:
#: proposers' contact details are never shown beyond the committee).
PRIVATE_FIELDS: dict[type[Model], frozenset[str]] = {
    Proposer: frozenset({"mobile", "phone", "email", "address", "postcode"}),
    User: frozenset({"password", "phone", "email"}),
}


#: Private even on the model's own list: nobody filters users by their password hash.
NEVER_FILTERED = frozenset({"password"})


def _is_committee(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_committee", False))


def _sees_everything(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "sees_everything", False))


def per_request(request: HttpRequest, key: str, compute: Callable[[], T]) -> T:
    """``compute()``, once per request: the value is kept on the request under ``key``."""
    if not hasattr(request, key):
        setattr(request, key, compute())
    return getattr(request, key)


def admin_user(request: HttpRequest) -> User:
    """The signed-in user of an admin view (``AdminSite.admin_view`` lets no one else in)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _unit_ids(request: HttpRequest) -> set[int]:
    """The units of the signed-in user, read once per request."""

    def read() -> set[int]:
        user = request.user
        return user.unit_ids() if isinstance(user, User) and user.is_active else set()

    return per_request(request, "_proposals_unit_ids", read)


def _may_run_unit_verbs(request: HttpRequest) -> bool:
    """Committee, or a unit member; the supervision office only looks."""
    if _is_committee(request):
        return True
    return bool(_unit_ids(request)) and not getattr(request.user, "is_supervisor", False)


def proposals_visible_to(queryset: QuerySet, user: User) -> QuerySet:
    """The admin's view of ``Proposal.objects.visible_to`` on a given queryset."""
    return queryset.filter(pk__in=Proposal.objects.visible_to(user).values("pk"))


def visible_choices(queryset: QuerySet, user: User) -> QuerySet:
    """Narrow a queryset of choices to what ``user`` may see, when its model says what that is.

    Models without ``visible_to`` (units, sessions) are not private.
    """
    visible = getattr(queryset, "visible_to", None)
    if visible is None:
        return queryset
    return queryset.filter(pk__in=visible(user).values("pk"))


def touches_private_field(model: type[Model], lookup: str, *, local_ok: bool) -> bool:
    """Whether ``lookup`` (``lead_proposer__mobile__startswith``) reads a private field.

    ``local_ok``: a private field of ``model`` itself is allowed (the committee's own
    proposer list), only one reached through a relation is not.
    """
    current = model
    for depth, part in enumerate(lookup.split(LOOKUP_SEP)):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return False  # a transform or a lookup type: the path ended
        private = part in PRIVATE_FIELDS.get(current, ())
        if private and (depth > 0 or not local_ok or part in NEVER_FILTERED):
            return True
        path_infos = getattr(field, "path_infos", None)
        if not path_infos:
            return False
        current = path_infos[-1].to_opts.model
    return False


class VisibilityMixin(_AdminBase):
    """What every admin of the project does about visibility (see the module's docstring)."""

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest | None = None) -> bool:
        if touches_private_field(self.model, lookup, local_ok=True):
            return False
        return super().lookup_allowed(lookup, value, request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        queryset = getattr(field, "queryset", None)
        if field is not None and queryset is not None:
            field.queryset = visible_choices(queryset, request.user)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        queryset = getattr(field, "queryset", None)
        if field is not None and queryset is not None:
            field.queryset = visible_choices(queryset, request.user)
        return field


class PlainRelationsMixin(_ModelAdminBase):
    """Read-only foreign keys as plain names for whoever may not open the related admin page.

    Django links a read-only foreign key to its admin page; a unit's clerk would follow the
    link to a refusal (a proposer's or a user's page). ``plain_relations`` maps such a field to
    a display method without the link, used when the user may not view the related model.
    """

    plain_relations: dict[str, str] = {}

    def _swap(self, request, names):
        out: list[Any] = []
        for name in names:
            if isinstance(name, list | tuple):
                out.append(type(name)(self._swap(request, name)))
            elif name in self.plain_relations and not self._may_open(request, name):
                out.append(self.plain_relations[name])
            else:
                out.append(name)
        return out

    def _may_open(self, request, name: str) -> bool:
        related = self.model._meta.get_field(name).related_model
        related_admin = self.admin_site._registry.get(related)
        return bool(related_admin and related_admin.has_view_or_change_permission(request))

    def get_fieldsets(self, request, obj=None):
        return self.plain_fieldsets(request, obj, super().get_fieldsets(request, obj))

    def plain_fieldsets(self, request, obj, fieldsets):
        """``fieldsets`` with the links the user could not follow made plain names (an admin
        that builds its own fieldsets calls this on them)."""
        if not self.plain_relations or obj is None:
            return fieldsets
        return [
            (title, {**options, "fields": self._swap(request, options["fields"])})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, *(v for v in self.plain_relations.values() if v not in readonly)]


class OfficeAdmin(VisibilityMixin, admin.ModelAdmin):
    """Permissions by office: the committee changes, the supervision office looks.

    Whoever may not see a model gets no rows of it either, so its history page answers for an
    existing id as for a missing one (Django's looks the object up before the permission).
    """

    #: No second count of the unfiltered list on every page ("共 N 条"): a query saved.
    show_full_result_count = False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not self.has_view_or_change_permission(request):
            return qs.none()
        return qs

    def has_view_permission(self, request, obj=None):
        return _sees_everything(request)

    def has_add_permission(self, request):
        return _is_committee(request)

    def has_change_permission(self, request, obj=None):
        return _is_committee(request)

    def has_delete_permission(self, request, obj=None):
        return _is_committee(request)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_committee_permission(self, request):
        return _is_committee(request)

    def has_unit_verb_permission(self, request):
        return _may_run_unit_verbs(request)


class HiddenUnlessViewable(_ModelAdminBase):
    """For the admins other apps register (Django's groups, django-axes' logs, DRF's tokens):
    whoever may not view the model gets no rows of it, as with ``OfficeAdmin``. Django's history
    page looks the object up before it asks for the permission, so otherwise an existing id
    answers 403 where a missing one is sent to the index (tracker/tests/test_access_matrix.py).
    """

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not self.has_view_or_change_permission(request):
            return qs.none()
        return qs


def hide_unviewable_rows(site: admin.AdminSite, models: list[type[Model]]) -> None:
    """Register the admins of ``models`` again with ``HiddenUnlessViewable`` in front."""
    for model in models:
        current = site._registry.get(model)
        if current is None or isinstance(current, OfficeAdmin | HiddenUnlessViewable):
            continue
        cls = type(current)
        site.unregister(model)
        site.register(model, type(cls.__name__, (HiddenUnlessViewable, cls), {}))


class SaveChangedFieldsMixin(_ModelAdminBase):
    """Save only what the form changed, so a stale form never overwrites what a workflow
    call wrote in the meantime (a status, a serial): those rows are not raw-saved."""

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        concrete = {f.name for f in obj._meta.concrete_fields}
        fields = [name for name in form.changed_data if name in concrete]
        if fields:
            auto_now = [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
            obj.save(update_fields=[*fields, *auto_now])


class OfficeInline(VisibilityMixin, _InlineBase):
    """An inline that may be seen by whoever may see its parent; changed by the committee."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        parent = self.admin_site._registry.get(self.parent_model)
        if parent is None:
            return _sees_everything(request)
        return parent.has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return _is_committee(request)

    def has_change_permission(self, request, obj=None):
        return _is_committee(request)

    def has_delete_permission(self, request, obj=None):
        return _is_committee(request)


class ReadOnlyInline(OfficeInline):
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
