"""A URLconf with the project's URLs plus two views with bugs a serializer
could have: tests/config/test_errors.py checks what the client sees."""

from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from config.urls import handler400, handler403, handler404, handler500, urlpatterns
from profiles.models import Reaction, UserProfile

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


@api_view(["POST"])
def check_violation(request):
    """Writes a value a CHECK constraint refuses (a forgotten validation)."""
    UserProfile.objects.create(user=request.user, journaling_frequency=-1)
    return Response(status=201)


@api_view(["POST"])
def dangling_reference(request):
    """Refers to a post that does not exist, as if it had been deleted by
    another request meanwhile; the deferred foreign key fails at COMMIT."""
    Reaction.objects.create(user=request.user, post_id=2**62, kind="like")
    return Response(status=201)


urlpatterns = [
    path("api/faults/check/", check_violation),
    path("api/faults/dangling/", dangling_reference),
    *urlpatterns,
]
