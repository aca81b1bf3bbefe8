"""Verbs: the workflow functions as changelist actions, change-page buttons and small form pages.

A status never changes in the admin itself: every verb calls its function in a ``workflow``
module, one row at a time, and shows the ``WorkflowError`` message when the call is refused.
Verbs that need input go through a small form (``proposals.forms``) on an intermediate page,
reached from the changelist (an action) or from the change page (a button); the buttons shown
are only those of the transitions allowed now, for this user. A verb that asks nothing (签收,
送达, 公开 …) is one button that posts at once, behind the browser's confirm dialog
(tracker_admin/verbs.js); its old page still answers a GET, for a link kept from before.

Apps built on ``proposals`` add read-only panels to a change page with ``register_panel``
(replies adds the co-handling opinions and replies to the assignment page) — the dependency
stays one way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from proposals.admin.access import (
    OfficeAdmin,
    _is_committee,
    _may_run_unit_verbs,
    _unit_ids,
    admin_user,
)
from proposals.forms import TransitionForm
from proposals.models import User
from proposals.workflow import InvalidInput, WorkflowError

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise

COMMITTEE = "committee"
UNIT = "unit_verb"
#: Verbs that turn something down; their buttons are drawn apart.
REFUSING_VERBS = frozenset(
    {
        "return",
        "not_file",
        "request_reassignment",
        "refuse_reassignment",
        "refuse_extension",
        "supersede",
    }
)

Panel = Callable[[HttpRequest, Any], "tuple[StrOrPromise, SafeString] | None"]
#: model -> read-only panels of its change page, ``(order, panel)``, where
#: ``panel(request, obj) -> (title, html)``; lower orders show first.
PANELS: dict[type[Model], list[tuple[int, Panel]]] = defaultdict(list)


def register_panel(model: type[Model], panel: Panel, *, order: int = 50) -> Panel:
    """Add a read-only panel to the change page of ``model`` (see the module's docstring)."""
    if all(p is not panel for _o, p in PANELS[model]):
        PANELS[model].append((order, panel))
        PANELS[model].sort(key=lambda item: item[0])
    return panel


@dataclass(frozen=True)
class Verb:
    """One workflow verb as the admin offers it.

    ``name`` is the verb's key in the model's transition table (it decides where the button
    shows); ``run(obj, actor, data)`` calls the workflow; ``who`` is ``COMMITTEE`` or ``UNIT``.
    ``one_click`` lets a verb with a form post at once from its button when the form, built
    for the object, has no visible field (提交签发 asks for a reason only while a co-handling
    opinion is missing); a verb without a form always does.
    """

    name: str
    label: StrOrPromise
    run: Callable[[Any, User, dict[str, Any]], Any]
    form_class: type[TransitionForm] | None = None
    who: str = COMMITTEE
    single: bool = False
    one_click: bool = False

    def posts_directly(self, obj: Any) -> bool:
        """Whether the change page's button runs the verb at once: nothing to type for ``obj``.

        Verbs whose form only confirms (立案, 签发: numbers given out, text frozen for good)
        keep their page, since they are not ``one_click``.
        """
        if self.form_class is None:
            return True
        if not self.one_click:
            return False
        return not self.form_class(objects=[obj]).visible_fields()


def _verb_action(verb: Verb) -> Callable:
    """The changelist action of a verb: runs it on every selected row."""

    def action(modeladmin: VerbAdmin, request: HttpRequest, queryset: QuerySet):
        return modeladmin.run_verb(
            request, verb, queryset, action_name=verb.name, done_url=request.get_full_path()
        )

    action.__name__ = verb.name
    return admin.action(description=verb.label, permissions=[verb.who])(action)


class VerbAdmin(OfficeAdmin):
    """A model admin whose lifecycle verbs are actions, buttons and intermediate form pages."""

    verbs: Sequence[Verb] = ()
    transitions: dict[str, tuple[frozenset[str], str]] = {}
    state_field = "status"
    change_form_template = "admin/proposals/change_form_verbs.html"
    verb_form_template = "admin/proposals/transition_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        verb_view = self.admin_site.admin_view(self.verb_view)
        return [
            path("<int:object_id>/do/<slug:verb>/", verb_view, name="{}_{}_verb".format(*info)),
            *super().get_urls(),
        ]

    def verb_allowed(self, request: HttpRequest, verb: Verb, obj: Any) -> bool:
        if _is_committee(request):
            return True
        if verb.who != UNIT or not _may_run_unit_verbs(request):
            return False
        return getattr(obj, "unit_id", None) in _unit_ids(request)

    def available_verbs(self, request: HttpRequest, obj: Any) -> list[Verb]:
        state = getattr(obj, self.state_field)
        return [
            v
            for v in self.verbs
            if state in self.transitions[v.name][0] and self.verb_allowed(request, v, obj)
        ]

    def describe(self, obj: Any) -> str:
        """One line about an object on the intermediate page."""
        return str(obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            info = self.opts.app_label, self.opts.model_name
            context["verb_state"] = getattr(obj, f"get_{self.state_field}_display")()
            context["verb_buttons"] = [
                {
                    "label": v.label,
                    "url": reverse(
                        "admin:{}_{}_verb".format(*info),
                        args=[obj.pk, v.name],
                        current_app=self.admin_site.name,
                    ),
                    "refusing": v.name in REFUSING_VERBS,
                    "asks": not direct,
                    "posts": direct,
                    "confirm": self.verb_confirmation(obj, v),
                }
                for v in self.available_verbs(request, obj)
                for direct in [v.posts_directly(obj)]
            ]
            context["verb_posts"] = any(b["posts"] for b in context["verb_buttons"])
            context["panels"] = self.panels(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def verb_confirmation(self, obj: Any, verb: Verb) -> str:
        """What the browser's confirm dialog asks before a one-click verb posts."""
        return _("确定对“%(obj)s”执行“%(verb)s”吗？") % {"obj": obj, "verb": verb.label}

    def panels(self, request: HttpRequest, obj: Any) -> list[tuple[StrOrPromise, SafeString]]:
        """The read-only panels other apps registered for this model."""
        shown = []
        for _order, panel in PANELS.get(self.model, ()):
            result = panel(request, obj)
            if result is not None:
                shown.append(result)
        return shown

    def verb_view(self, request: HttpRequest, object_id: int, verb: str) -> HttpResponse:
        """The change page's button: the workflow call on a POST (a verb without input posts
        straight from its button); on a GET, the verb's form (or confirmation) page."""
        spec = next((v for v in self.verbs if v.name == verb), None)
        if spec is None:
            raise Http404
        obj = self.get_object(request, str(object_id))
        if obj is None:
            # Django's own answer for a missing id; the stubs leave the private method out.
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))  # type: ignore[attr-defined]
        if not self.verb_allowed(request, spec, obj):
            raise PermissionDenied
        done_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )
        response = self.run_verb(request, spec, [obj], done_url=done_url)
        return response if response is not None else HttpResponseRedirect(done_url)

    def run_verb(
        self,
        request: HttpRequest,
        verb: Verb,
        objects: Iterable[Any],
        *,
        done_url: str,
        action_name: str | None = None,
    ) -> HttpResponse | None:
        """Show the verb's page, or run it on each object and say how it went.

        From an action (``action_name`` set) a verb without input runs at once, and returning
        ``None`` sends the user back to the changelist; from a button it runs on the button's
        POST (``apply``), confirmed in the browser first; a GET shows its page.
        """
        objects = list(objects)
        from_action = action_name is not None
        if not objects:
            # What was selected is gone, or was never the user's to see: the same answer.
            self.message_user(request, _("所选条目不存在，未执行任何操作。"), messages.WARNING)
            return None if from_action else HttpResponseRedirect(done_url)
        if verb.single and len(objects) != 1:
            self.message_user(
                request,
                _("“%(verb)s”一次只能办理一件，请只选择一件。") % {"verb": verb.label},
                messages.ERROR,
            )
            return None if from_action else HttpResponseRedirect(done_url)
        applying = request.method == "POST" and "apply" in request.POST
        form = None
        data: dict[str, Any] = {}
        if verb.form_class is not None:
            form = verb.form_class(request.POST if applying else None, objects=objects)
            if not applying or not form.is_valid():
                return self.render_verb_page(request, verb, objects, form, action_name, done_url)
            data = form.cleaned_data
        elif not applying and not from_action:
            return self.render_verb_page(request, verb, objects, None, action_name, done_url)

        done, failed = self.apply_verb(request, verb, objects, data)
        if form is not None and not done and len(failed) == 1 and len(objects) == 1:
            exc = failed[0][1]
            if isinstance(exc, InvalidInput):
                # Keep what was typed: the error is about the input, so show the form again.
                self.message_user(request, exc.message, messages.ERROR)
                return self.render_verb_page(request, verb, objects, form, action_name, done_url)
        self.report_verb(request, verb, done, failed)
        return None if from_action else HttpResponseRedirect(done_url)

    def apply_verb(
        self, request: HttpRequest, verb: Verb, objects: list[Any], data: dict[str, Any]
    ) -> tuple[list[Any], list[tuple[Any, WorkflowError]]]:
        """Call the workflow once per object; each call commits or rolls back on its own."""
        done: list[Any] = []
        failed: list[tuple[Any, WorkflowError]] = []
        for obj in objects:
            try:
                result = verb.run(obj, admin_user(request), data)
            except WorkflowError as exc:
                failed.append((obj, exc))
            else:
                done.append(result if isinstance(result, type(obj)) else obj)
        return done, failed

    def report_verb(
        self,
        request: HttpRequest,
        verb: Verb,
        done: list[Any],
        failed: list[tuple[Any, WorkflowError]],
    ) -> None:
        if len(done) + len(failed) == 1 and done:
            msg = _("“%(obj)s”已%(verb)s。") % {"obj": done[0], "verb": verb.label}
            self.message_user(request, msg, messages.SUCCESS)
        elif done:
            msg = _("已%(verb)s %(count)d 件。") % {"verb": verb.label, "count": len(done)}
            self.message_user(request, msg, messages.SUCCESS)
        for obj, exc in failed:
            msg = _("“%(obj)s”未能%(verb)s：%(message)s") % {
                "obj": obj,
                "verb": verb.label,
                "message": exc.message,
            }
            self.message_user(request, msg, messages.ERROR)

    def render_verb_page(
        self,
        request: HttpRequest,
        verb: Verb,
        objects: list[Any],
        form: TransitionForm | None,
        action_name: str | None,
        done_url: str,
    ) -> TemplateResponse:
        adminform = (
            # Any form will do (the stubs ask for a ModelForm): the page shows its fields.
            helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {}, model_admin=self)  # type: ignore[arg-type]
            if form is not None
            else None
        )
        context = {
            **self.admin_site.each_context(request),
            "title": verb.label,
            "opts": self.opts,
            "verb": verb,
            "objects": [(obj, self.describe(obj)) for obj in objects],
            "form": form,
            "adminform": adminform,
            "media": self.media + (form.media if form is not None else forms.Media()),
            "action_name": action_name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": [obj.pk for obj in objects],
            "cancel_url": done_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.verb_form_template, context)
