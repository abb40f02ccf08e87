"""Every write of the community directory with a rule beyond its own row. The
API, the admin and the management commands all call these.

Members get their ``member_id`` from ``member_ids_next``: one row in
``community_member_id_sequence`` counts up in the same statement that reads
it (an upsert), so concurrent creations wait for each other's commit and no
number is handed out twice; a creation that rolls back gives its number back.

Invitations are accepted under a row lock (``SELECT ... FOR UPDATE``): of many
requests for one code, the first to lock it accepts, and the others, once it
commits, see it accepted. Everything an acceptance writes (the member, the
invitation, the ``INVITED`` relationship) is in one transaction.
"""

import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Case, Count, Q, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Greatest, Least
from django.utils import timezone

from community.models import (
    MEMBER_ID_PREFIX,
    CommunityInvitation,
    CommunityMember,
    EventType,
    InvitationStatus,
    MemberDailyHighlight,
    MemberIdSequence,
    MemberParticipation,
    MemberRelationship,
    MemberStatus,
    Platform,
    RelationshipType,
    github_username_validator,
    tier_for,
)
from config.fields import Now

# No look-alikes: no 0/O, no 1/I/L. 31 symbols, 16 of them: about 79 bits.
INVITATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITATION_CODE_LENGTH = 16
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# The most one reputation change may add or take away.
MAX_REPUTATION_DELTA = 1_000_000


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def username_normal(username: str | None) -> str | None:
    """A Telegram username as stored and compared: no @, no spaces."""
    if username is None:
        return None
    return username.strip().removeprefix("@") or None


# --- members ------------------------------------------------------------------------


def member_ids_next(count: int = 1) -> list[str]:
    """Reserve ``count`` new member ids (``#N``), in order. The counter row
    stays locked until the transaction ends."""
    table = connection.ops.quote_name(MemberIdSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, last_value) VALUES (1, %s) "  # noqa: S608
            f"ON CONFLICT (id) DO UPDATE SET last_value = {table}.last_value + "
            "excluded.last_value RETURNING last_value",
            [count],
        )
        last = cursor.fetchone()[0]
    return [f"{MEMBER_ID_PREFIX}{n}" for n in range(last - count + 1, last + 1)]


def member_telegram_id_check(telegram_id: str) -> None:
    """Raise if a member, deleted or not, has ``telegram_id``."""
    # The messages name no member: who has a Telegram id or a GitHub account
    # is for readers allowed to see those (the API's private columns).
    found = CommunityMember.all_objects.filter(telegram_id=telegram_id).first()
    if found is not None:
        state = " (deleted: restore them instead)" if found.is_deleted else ""
        raise _error("telegram_id", f"A member has this Telegram id{state}.", "unique")


@transaction.atomic
def member_create(*, telegram_id: str, name: str, primary_role: str, **fields):
    """A new member with the next ``member_id``. ``fields``: any other
    column a client may set (``telegram_username``, ``country``, ...)."""
    member_telegram_id_check(telegram_id)
    if "telegram_username" in fields:
        fields["telegram_username"] = username_normal(fields["telegram_username"])
    (member_id,) = member_ids_next()
    return CommunityMember.objects.create(
        member_id=member_id,
        telegram_id=telegram_id,
        name=name,
        primary_role=primary_role,
        **fields,
    )


def member_update(*, member: CommunityMember, **fields) -> CommunityMember:
    """Set the columns a client may edit, and only those: a concurrent
    reputation change or verification is not overwritten with stale values."""
    if "telegram_username" in fields:
        fields["telegram_username"] = username_normal(fields["telegram_username"])
    for name, value in fields.items():
        setattr(member, name, value)
    member.save(update_fields=[*fields, "updated_at"])
    return member


@transaction.atomic
def member_delete(*, member: CommunityMember) -> None:
    """Soft-delete ``member``: hidden from default queries and the API, every
    reference kept. Their pending invitations are revoked."""
    if member.is_deleted:
        raise _error("member_id", "This member is already deleted.", "deleted")
    member.deleted_at = Now()
    member.save(update_fields=["deleted_at", "updated_at"])
    CommunityInvitation.objects.filter(
        created_by=member, status=InvitationStatus.PENDING
    ).update(status=InvitationStatus.REVOKED, updated_at=Now())


@transaction.atomic
def member_restore(*, member: CommunityMember) -> CommunityMember:
    """Undo ``member_delete`` (revoked invitations stay revoked)."""
    if not member.is_deleted:
        raise _error("member_id", "This member is not deleted.", "not_deleted")
    member.deleted_at = None
    member.save(update_fields=["deleted_at", "updated_at"])
    return member


@transaction.atomic
def member_github_verify(
    *,
    member: CommunityMember,
    github_username: str,
    verified: bool = True,
    profile_data: dict | None = None,
) -> CommunityMember:
    """Record the outcome of a GitHub check (made elsewhere: no network call
    here): the username, whether it was verified and when, and the profile.
    A GitHub account is verified for one member at most."""
    github_username_validator(github_username)
    if profile_data is not None and not isinstance(profile_data, dict):
        raise _error("profile_data", "Expected a JSON object.", "invalid_type")
    if verified:
        holder = (
            CommunityMember.all_objects.filter(
                github_username__iexact=github_username, github_verified=True
            )
            .exclude(pk=member.pk)
            .first()
        )
        if holder is not None:
            raise _error(
                "github_username",
                "Another member has verified this GitHub account.",
                "unique",
            )
    member.github_username = github_username
    member.github_verified = verified
    member.github_verified_at = Now() if verified else None
    member.github_profile_data = profile_data
    member.save(
        update_fields=[
            "github_username",
            "github_verified",
            "github_verified_at",
            "github_profile_data",
            "updated_at",
        ]
    )
    return member


@transaction.atomic
def member_reputation_change(
    *, member: CommunityMember, delta: int, reason: str
) -> CommunityMember:
    """Add ``delta`` (negative to take away) to ``member``'s score, move their
    tier with it (``community.models.TIER_THRESHOLDS``), and record the change
    as a ``REPUTATION`` participation event, which the day's highlights sum."""
    if not -MAX_REPUTATION_DELTA <= delta <= MAX_REPUTATION_DELTA:
        raise _error(
            "delta", f"At most {MAX_REPUTATION_DELTA} either way.", "max_value"
        )
    locked = CommunityMember.all_objects.select_for_update().get(pk=member.pk)
    if locked.is_deleted:
        raise _error("member_id", "This member is deleted.", "deleted")
    score = locked.reputation_score + delta
    if not INT_MIN <= score <= INT_MAX:
        raise _error("delta", f"The score would leave {INT_MIN}..{INT_MAX}.", "range")
    locked.reputation_score = score
    locked.reputation_tier = tier_for(score)
    locked.save(update_fields=["reputation_score", "reputation_tier", "updated_at"])
    MemberParticipation.objects.create(
        member=locked,
        event_type=EventType.REPUTATION,
        platform=Platform.SYSTEM,
        room_id="",
        event_metadata={"delta": delta, "reason": reason, "score": score},
    )
    return locked


# --- invitations --------------------------------------------------------------------


def invitation_code_new() -> str:
    """A fresh code from a cryptographically secure generator."""
    return "".join(
        secrets.choice(INVITATION_ALPHABET) for _ in range(INVITATION_CODE_LENGTH)
    )


def invitation_default_expiry() -> datetime:
    """``COMMUNITY_INVITATION_DAYS`` from now."""
    return timezone.now() + timedelta(days=settings.COMMUNITY_INVITATION_DAYS)


def invitation_creator_check(member: CommunityMember) -> None:
    """Raise unless ``member`` may invite: a member, not deleted."""
    if member.is_deleted or member.status != MemberStatus.MEMBER:
        raise _error("created_by", "Only members can invite.", "not_a_member")


@transaction.atomic
def invitation_create(
    *,
    created_by: CommunityMember,
    invited_telegram_username: str | None = None,
    expires_at: datetime | None = None,
) -> CommunityInvitation:
    """An invitation from ``created_by`` (a member, not deleted), valid until
    ``expires_at`` (by default ``COMMUNITY_INVITATION_DAYS`` from now)."""
    invitation_creator_check(created_by)
    if expires_at is None:
        expires_at = invitation_default_expiry()
    elif expires_at <= timezone.now():
        raise _error("expires_at", "Must be in the future.", "in_the_past")
    for _ in range(5):  # a clash has odds of about 1 in 10^23: retry, don't fail
        try:
            with transaction.atomic():
                return CommunityInvitation.objects.create(
                    invitation_code=invitation_code_new(),
                    created_by=created_by,
                    invited_telegram_username=username_normal(
                        invited_telegram_username
                    ),
                    expires_at=expires_at,
                )
        except IntegrityError:
            continue
    raise RuntimeError("no free invitation code after 5 tries")


def _acceptable(invitation: CommunityInvitation, telegram_username: str | None):
    """Raise the reason ``invitation`` cannot be accepted now, if any."""
    if invitation.status == InvitationStatus.ACCEPTED:
        raise _error("invitation_code", "This invitation was already used.", "used")
    if invitation.status == InvitationStatus.REVOKED:
        raise _error("invitation_code", "This invitation was revoked.", "revoked")
    if (
        invitation.status == InvitationStatus.EXPIRED
        or invitation.expires_at <= timezone.now()
    ):
        raise _error("invitation_code", "This invitation has expired.", "expired")
    invited = invitation.invited_telegram_username
    if invited and (telegram_username or "").lower() != invited.lower():
        raise _error(
            "telegram_username",
            f"This invitation is for @{invited}.",
            "wrong_recipient",
        )


def _member_for_acceptance(*, telegram_id: str, fields: dict) -> CommunityMember:
    """The member with ``telegram_id``, locked, or a new one made from
    ``fields``; a Telegram user who is a member already cannot accept."""
    found = CommunityMember.all_objects.select_for_update().filter(
        telegram_id=telegram_id
    )
    member = found.first()
    if member is None:
        missing = [name for name in ("name", "primary_role") if not fields.get(name)]
        if missing:
            raise ValidationError(
                {
                    name: ValidationError(
                        "Required for someone not in the directory yet.",
                        code="required",
                    )
                    for name in missing
                }
            )
        try:  # a concurrent acceptance may add this Telegram user first
            with transaction.atomic():
                return member_create(telegram_id=telegram_id, **fields)
        except (IntegrityError, ValidationError):
            member = found.first()
            if member is None:
                raise
    if member.is_deleted:
        raise _error(
            "telegram_id",
            "This Telegram user's member is deleted; restore them first.",
            "deleted",
        )
    if member.status != MemberStatus.NOT_MEMBER:
        raise _error(
            "telegram_id",
            "This Telegram user is already in the community "
            f"({member.get_status_display().lower()}).",
            "already_member",
        )
    return member


@transaction.atomic
def invitation_accept(
    *,
    invitation_code: str,
    telegram_id: str,
    telegram_username: str | None = None,
    name: str | None = None,
    primary_role: str | None = None,
) -> CommunityInvitation:
    """Accept the invitation with ``invitation_code`` (any letter case) for
    the Telegram user ``telegram_id``: the member (found, or created from
    ``name`` and ``primary_role``) becomes a member invited by the code's
    creator, the invitation records who accepted it and when, and an
    ``INVITED`` relationship links the two. Of concurrent acceptances of one
    code, exactly one succeeds."""
    code = invitation_code.strip().upper()
    invitation = (
        CommunityInvitation.objects.select_for_update()
        .filter(invitation_code=code)
        .first()
    )
    if invitation is None:
        raise _error(
            "invitation_code", "No invitation has this code.", "does_not_exist"
        )
    telegram_username = username_normal(telegram_username)
    _acceptable(invitation, telegram_username)
    fields = {"name": name, "primary_role": primary_role}
    if telegram_username:
        fields["telegram_username"] = telegram_username
    member = _member_for_acceptance(telegram_id=telegram_id, fields=fields)
    member.status = MemberStatus.MEMBER
    member.invited_by_id = invitation.created_by_id
    if telegram_username:
        member.telegram_username = telegram_username
    member.save(
        update_fields=["status", "invited_by", "telegram_username", "updated_at"]
    )
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_by = member
    invitation.accepted_at = Now()
    invitation.save(
        update_fields=["status", "accepted_by", "accepted_at", "updated_at"]
    )
    MemberRelationship.objects.create(
        entity_id_a=invitation.created_by_id,
        entity_id_b=member.member_id,
        relationship_type=RelationshipType.INVITED,
        content={
            "invitation_id": str(invitation.invitation_id),
            "invitation_code": invitation.invitation_code,
        },
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: CommunityInvitation) -> CommunityInvitation:
    """Withdraw a pending invitation."""
    locked = CommunityInvitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.status != InvitationStatus.PENDING:
        raise _error(
            "invitation_code",
            f"Only a pending invitation can be revoked; this one is {locked.status}.",
            locked.status,
        )
    locked.status = InvitationStatus.REVOKED
    locked.save(update_fields=["status", "updated_at"])
    return locked


def invitations_expire(*, now: datetime | None = None) -> int:
    """Mark pending invitations past their ``expires_at`` expired; how many.
    (An acceptance checks the time itself: this keeps ``status`` honest for
    lists and filters. ``manage.py community_expire_invitations`` runs it.)"""
    return CommunityInvitation.objects.filter(
        status=InvitationStatus.PENDING, expires_at__lte=now or timezone.now()
    ).update(status=InvitationStatus.EXPIRED, updated_at=Now())


# --- participation and daily highlights ---------------------------------------------


@transaction.atomic
def participation_record(*, events: Iterable[dict]) -> list[MemberParticipation]:
    """Insert participation events (dicts of ``MemberParticipation`` fields;
    ``member_id`` must name live members, as the API checks; ``occurred_at``
    defaults to now) in one statement, and move each member's
    ``last_active_at`` forward to their latest event in one more."""
    now = timezone.now()
    rows = [MemberParticipation(**{"occurred_at": now, **event}) for event in events]
    MemberParticipation.objects.bulk_create(rows)
    latest: dict[str, datetime] = {}
    for row in rows:
        previous = latest.get(row.member_id, row.occurred_at)
        latest[row.member_id] = max(row.occurred_at, previous)
    later = [
        When(
            member_id=member_id,
            then=Greatest(Coalesce("last_active_at", Value(when)), Value(when)),
        )
        for member_id, when in latest.items()
    ]
    if later:
        CommunityMember.all_objects.filter(member_id__in=latest).update(
            last_active_at=Case(*later)
        )
    return rows


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _metadata_sum(key: str, event_type: EventType):
    """The day's sum of ``event_metadata[key]`` over ``event_type`` events,
    held within the column's ``integer`` range."""
    total = Coalesce(
        Sum(
            Cast(KT(f"event_metadata__{key}"), BigIntegerField()),
            filter=Q(event_type=event_type),
        ),
        0,
    )
    return Least(Greatest(total, Value(INT_MIN)), Value(INT_MAX))


@transaction.atomic
def daily_highlights_build(*, day: date) -> int:
    """Sum ``day``'s participation (UTC) into one ``member_daily_highlights``
    row per member: messages, reactions, voice minutes, reputation earned.
    Running it again for the same day updates those rows in place, and drops
    rows of members with no events left that day. Returns the row count.
    A day that has not begun is refused (it has nothing to sum)."""
    if day > timezone.now().date():
        raise _error("highlight_date", "This day has not come yet.", "future")
    start, end = _day_bounds(day)
    totals = (
        MemberParticipation.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .values("member_id")
        .annotate(
            message_count=Count("id", filter=Q(event_type=EventType.MESSAGE)),
            reaction_count=Count("id", filter=Q(event_type=EventType.REACTION)),
            voice_minutes=_metadata_sum("minutes", EventType.VOICE),
            reputation_earned=_metadata_sum("delta", EventType.REPUTATION),
        )
        .order_by("member_id")
    )
    counts = ["message_count", "reaction_count", "voice_minutes", "reputation_earned"]
    rows = [
        MemberDailyHighlight(
            member_id=total["member_id"],
            highlight_date=day,
            **{name: total[name] for name in counts},
        )
        for total in totals
    ]
    MemberDailyHighlight.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["member", "highlight_date"],
        update_fields=counts,
    )
    MemberDailyHighlight.objects.filter(highlight_date=day).exclude(
        member_id__in=[row.member_id for row in rows]
    ).delete()
    return len(rows)
