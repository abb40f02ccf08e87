"""Object and model permissions every app's viewsets use."""

from rest_framework import permissions


class ReadOnlyOrModelPermissions(permissions.DjangoModelPermissions):
    """Any authenticated user may read; writing needs the model permission
    (``add_``/``change_``/``delete_``), which staff get in the admin."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": [],
        "HEAD": [],
        "OPTIONS": [],
    }


class IsOwnerOrReadOnly(permissions.BasePermission):
    """Anyone allowed by the view may read; only the row's owner may change it.

    The view names the owner column in ``owner_field`` (``author_id``,
    ``user_id``, ...).
    """

    message = "Only its owner can change this."

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return getattr(obj, view.owner_field) == request.user.pk


class ModelPermissions(permissions.DjangoModelPermissions):
    """Every verb needs the model permission, reading too (``view_``): for
    tables only staff and service accounts (users or groups given the
    permissions in the admin) may use. Others get 403, anonymous callers 401.

    A POST action that changes rows rather than adding them (``revoke``,
    ``restore``) is named in the view's ``change_actions``: it needs the
    ``change_`` permission.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if getattr(view, "action", None) not in getattr(view, "change_actions", ()):
            return super().has_permission(request, view)
        if not request.user or not request.user.is_authenticated:
            return False
        model = self._queryset(view).model
        return request.user.has_perms(self.get_required_permissions("PATCH", model))
