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
