"""Admin helpers every app may use: rows added or deleted only through the
app's services (so the admin keeps the API's rules), and read-only records."""

from django.contrib import admin
from django.db import transaction


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
