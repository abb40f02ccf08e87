"""Admin helpers every app may use: rows added or deleted only through the
app's services (so the admin keeps the API's rules), pages that run a service
on one row with a form, read-only records, and links from a row to the rows
that point at it; and the admin's login form."""

import math

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from rest_framework.exceptions import Throttled


class CreateThroughService:
    """``ModelAdmin`` mixin: the add page saves through a service.

    Implement ``service_create(request, obj, form)``: call the service with the
    values of the unsaved ``obj`` and return the row it created. Problems the
    service raises as ``ValidationError`` belong in the form's ``clean()``
    (run the service's check there) so they show as form errors.
    """

    def service_create(self, request, obj, form):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = self.service_create(request, obj, form)
        # The admin goes on with ``obj`` (its id for the redirect, its name for
        # the message and the log): make it the row the service saved.
        obj.__dict__.update(created.__dict__)
        return None


class DeleteThroughService:
    """``ModelAdmin`` mixin: the delete page and the "delete selected" action
    delete each row through ``service_delete(request, obj)``, in one
    transaction, with the ``list_select_related`` rows loaded."""

    def service_delete(self, request, obj) -> None:
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        related = self.list_select_related
        if isinstance(related, list | tuple):
            queryset = queryset.select_related(*related)
        for obj in queryset:
            self.service_delete(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the code alone writes (caches, audit records): staff look, and may
    delete where the subclass allows it, but never add or edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def form_errors_add(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ``ValidationError`` on ``form``: under the field it
    names when the form has that field, above the form otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _python_name(name: str) -> str:
    """A page's URL name (``verify-github``) as in Python (``verify_github``)."""
    return name.replace("-", "_")


class ObjectFormViews:
    """``ModelAdmin`` mixin: pages that run a service on one row with a form
    (accept an invitation, record a member's GitHub verification).

    ``object_forms`` maps each page's name (its URL: ``<id>/<name>/``) to its
    form class and title. Implement ``object_form_<name>(request, obj, data)``:
    it calls the service with the form's ``cleaned_data`` and returns the
    message to show; a ``ValidationError`` it raises shows on the form, and
    nothing is written. ``object_form_applies(obj, name)`` says which pages
    the change page links (add ``"object_form_links"`` to its read-only
    fields). The pages need ``has_object_form_permission`` (by default the
    change permission).
    """

    object_forms: dict[str, tuple[type[forms.Form], str]] = {}

    def object_form_applies(self, obj, name: str) -> bool:
        return True

    def has_object_form_permission(self, request, obj=None) -> bool:
        """Who may use the pages (and, as ``permissions=["object_form"]``,
        actions like them): by default whoever may change the row."""
        return self.has_change_permission(request, obj)

    def _object_form_url(self, obj, name: str) -> str:
        info = self.opts.app_label, self.opts.model_name, _python_name(name)
        return reverse("admin:{}_{}_{}".format(*info), args=[obj.pk])

    def get_urls(self):
        def view_for(name):
            def view(request, object_id):
                return self.object_form_view(request, object_id, name)

            return self.admin_site.admin_view(view)

        info = self.opts.app_label, self.opts.model_name
        return [
            *(
                path(
                    f"<path:object_id>/{name}/",
                    view_for(name),
                    name=f"{info[0]}_{info[1]}_{_python_name(name)}",
                )
                for name in self.object_forms
            ),
            *super().get_urls(),
        ]

    def object_form_view(self, request, object_id, name: str):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.object_form_applies(obj, name):
            raise Http404(f"No {self.opts.verbose_name} to do this to.")
        if not self.has_object_form_permission(request, obj):
            raise PermissionDenied
        form_class, title = self.object_forms[name]
        form = form_class(request.POST if request.method == "POST" else None)
        if form.is_valid():
            handle = getattr(self, f"object_form_{_python_name(name)}")
            try:
                with transaction.atomic():
                    message = handle(request, obj, form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                self.message_user(request, message, messages.SUCCESS)
                info = self.opts.app_label, self.opts.model_name
                return HttpResponseRedirect(
                    reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {obj}",
            "opts": self.opts,
            "original": obj,
            "form": form,
            "submit": title,
        }
        return TemplateResponse(request, "admin/object_form.html", context)

    @admin.display(description="Actions")
    def object_form_links(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        links = [
            (self._object_form_url(obj, name), title)
            for name, (_, title) in self.object_forms.items()
            if self.object_form_applies(obj, name)
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links) or "-"


def filter_link(field: str, description: str):
    """A changelist column (assign it in the ``ModelAdmin``: ``owner =
    filter_link("user", "user")``) showing ``field``'s row as a link that
    filters the list to it (``?user__pk__exact=...``): filtering by one of
    thousands of users, which a sidebar filter could not list."""

    @admin.display(description=description, ordering=field)
    def column(model_admin, obj):
        return format_html(
            '<a href="?{}__pk__exact={}" title="Only theirs">{}</a>',
            field,
            getattr(obj, f"{field}_id"),
            getattr(obj, field),
        )

    return column


def related_lists(description: str):
    """A read-only field (assign it in the ``ModelAdmin``: ``related =
    related_lists("...")``, and list ``"related"`` in its read-only fields) that
    links, for the row on the page, the change list of every registered model
    with a foreign key (or a many-to-many field) to it, filtered to the rows
    that point at it: a user's stories, interests, matches, reports, ... one
    click away from the user's page, with no app importing another."""

    @admin.display(description=description)
    def links_field(model_admin, obj):
        if obj is None or obj.pk is None:
            return "-"
        model = obj._meta.concrete_model
        links = []
        for related in model_admin.admin_site._registry:
            keys = [
                key
                for key in related._meta.get_fields()
                if key.is_relation and not key.auto_created  # not reverse ones
                if key.related_model is model
            ]
            name = related._meta.verbose_name_plural
            for key in keys:
                info = related._meta.app_label, related._meta.model_name
                target = key.target_field if key.many_to_one or key.one_to_one else None
                value = getattr(obj, target.attname) if target else obj.pk
                query = urlencode({f"{key.name}__exact": value})
                label = f"{name} ({key.verbose_name})" if len(keys) > 1 else name
                url = reverse("admin:{}_{}_changelist".format(*info))
                links.append((label[:1].upper() + label[1:], f"{url}?{query}"))
        return format_html_join(
            " · ", '<a href="{1}">{0}</a>', sorted(links, key=lambda link: link[0])
        )

    return links_field


class LoginForm(AdminAuthenticationForm):
    """The admin's login form. A login refused for too many failures from
    the address or for the account (``config.ratelimit.LoginAttempt``, which
    the authentication backend raises) is a form error saying when to try
    again, whatever the password."""

    def clean(self):
        try:
            return super().clean()
        except Throttled as refusal:
            raise ValidationError(
                "Too many failed logins from your address or for this account: "
                "try again in %(wait)s.",
                code="throttled",
                params={"wait": _duration(refusal.wait)},
            ) from None


def _duration(seconds: int) -> str:
    """``seconds`` in words: "20 minutes", "45 seconds", "1 second"."""
    if seconds > 120:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{seconds} second{'' if seconds == 1 else 's'}"
