from rest_framework import permissions


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
