"""UI helpers meant for sharing: every app's pages use these, so they live here and not in
booking's own views, forms or admin (public, see ``booking/__init__.py``).

- ``citizen_page``: a citizen page's decorator: rate limited per client (pages and, stricter,
  POSTs), never cached, and a friendly 429 page when over the limit.
- ``AccessibleForm``: wires hints and error messages to their inputs (``aria-describedby``)
  and lists the errors for the error summary at the top of the page.
- ``NameField``: the form field for a person's name (``booking.cleaning.clean_name``): every
  form that takes a name uses it.
- ``add_domain_error``: the one place a domain error (any app's, ``booking.exceptions.DomainError``)
  becomes a form error.
- ``ReadOnlyAdmin``: the admin base for rows the admin may show but never write (booking's
  appointments and audit trail, other apps' append-only logs).
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from .cleaning import clean_name
from .exceptions import DomainError


def _rate(setting: str):
    return lambda group, request: getattr(settings, setting)


def too_many_requests(request: HttpRequest, template: str) -> HttpResponse:
    """The 429 page of a rate-limited view, with when to try again."""
    response = render(request, template, status=429)
    response["Retry-After"] = "60"
    return response


def citizen_page(view):
    """Rate limited per client (pages and, stricter, POSTs), never cached, 429 page when over."""

    @ratelimit(group="citizen-pages", key="ip", rate=_rate("BOOKING_RATELIMIT_PAGES"), block=False)
    @ratelimit(group="citizen-actions", key="ip", rate=_rate("BOOKING_RATELIMIT_ACTIONS"), method="POST", block=False)
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if getattr(request, "limited", False):
            return too_many_requests(request, "booking/too_many_requests.html")
        return view(request, *args, **kwargs)

    return never_cache(wrapped)


def add_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Show a domain error next to its field when the form has it, else at the top; every
    price problem of a product (``problems``) next to its own field."""
    form.is_valid()  # make sure the form has been cleaned before adding to its errors
    problems = exc.extra.get("problems")
    if problems:
        for name, message in problems.items():
            form.add_error(name if name in form.fields else None, message)
        return
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))


class NameField(forms.CharField):
    """A person's name, cleaned by ``booking.cleaning.clean_name`` (one line, no control or bidi
    characters); empty after cleaning counts as empty."""

    def to_python(self, value):
        return clean_name(super().to_python(value))


class AccessibleForm(forms.Form):
    # Fields rendered as one group (radios, checkboxes): describe the fieldset, not each input.
    group_widgets = (forms.RadioSelect, forms.CheckboxSelectMultiple)
    # Where the error summary links to, when not the field's own input.
    anchors: dict[str, str] = {}
    _errors: forms.utils.ErrorDict | None  # set by Django's BaseForm; read without validating

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self._wire_descriptions()

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        self._wire_descriptions()

    def _wire_descriptions(self) -> None:
        for name, field in self.fields.items():
            if isinstance(field.widget, (*self.group_widgets, forms.HiddenInput)):
                continue
            bound = self[name]
            ids = []
            if field.help_text:
                ids.append(f"{bound.auto_id}_hint")
            if self._errors and name in self._errors:
                ids.append(f"{bound.auto_id}_error")
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
            else:
                field.widget.attrs.pop("aria-describedby", None)

    def error_summary(self) -> list[dict]:
        """[{"anchor": id or None, "message": text}] in the order of the fields."""
        if not self.is_bound or not self.errors:
            return []
        items = [{"anchor": None, "message": message} for message in self.non_field_errors()]
        for name in self.fields:
            for message in self.errors.get(name, []):
                items.append({"anchor": self.anchor(name), "message": message})
        return items

    def anchor(self, name: str) -> str:
        if name in self.anchors:
            return self.anchors[name]
        bound = self[name]
        if isinstance(self.fields[name].widget, self.group_widgets):
            return f"{bound.auto_id}_0"
        return bound.auto_id


class ReadOnlyAdmin(admin.ModelAdmin):
    """To look into only: changes go through the services (audit trail, hooks, availability),
    and logs are append-only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
