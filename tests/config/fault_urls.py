"""A URLconf with the project's URLs plus views with bugs a view could have,
and views that report on the request's transaction: tests/config checks what
the client sees."""

from django.db import connection
from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from config.urls import handler400, handler403, handler404, handler500, urlpatterns
from profiles.models import Post, Reaction, UserProfile

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


@api_view(["GET", "POST"])
def in_transaction(request):
    return Response({"atomic": connection.in_atomic_block})


@api_view(["POST"])
def write_then_refuse(request):
    """Writes a post, then answers 400 (a rule checked too late)."""
    Post.objects.create(author=request.user, body="half-written")
    raise ValidationError("refused after writing")


@api_view(["POST"])
def write_then_crash(request):
    Post.objects.create(author=request.user, body="half-written")
    raise RuntimeError("a bug after writing")


@api_view(["GET"])
def lazy_load(request):
    """Reads a relation it did not select: an N+1 on an API path."""
    post = Post.objects.first()
    return Response({"author": post.author.username})


urlpatterns = [
    path("api/faults/check/", check_violation),
    path("api/faults/dangling/", dangling_reference),
    path("api/faults/transaction/", in_transaction),
    path("api/faults/refuse/", write_then_refuse),
    path("api/faults/crash/", write_then_crash),
    path("api/faults/lazy/", lazy_load),
    *urlpatterns,
]
