"""community's part of ``manage.py seed_demo`` (config/seeding.py): a directory
of 20·N Telegram members, most of them invited by the five founders through
accepted invitations, with reputation, GitHub verifications, two weeks of
participation and its daily highlights, pending invitations, and the service
account a bot would use.

Members are made through the services (member ids, invitations and
relationships follow the rules); participation is bulk-inserted, for members
who have none yet.
"""

from datetime import timedelta

from community import services
from community.models import (
    CommunityInvitation,
    CommunityMember,
    InvitationStatus,
    MemberParticipation,
    MemberStatus,
)
from config.accounts import service_account
from config.seeding import Demo, bulk_insert

MEMBERS_PER_SCALE = 20
FOUNDERS = 5
DAYS = 14
TELEGRAM_ID_BASE = 7_000_000
# Not "demo-": demo.users() are the demo people other apps decorate.
BOT_USERNAME = "community-bot"
ROLES = ["developer", "designer", "researcher", "founder", "community manager"]
COUNTRIES = ["Mexico", "Portugal", "Kenya", "Japan", "Brazil", None]
ROOMS = ["general", "builders", "random"]


def seed(demo: Demo) -> None:
    members = _members(demo)
    _pending_invitations(members[:FOUNDERS])
    _reputation_and_github(demo, members)
    _participation(demo, members)
    today = demo.now.date()
    for offset in range(DAYS):
        services.daily_highlights_build(day=today - timedelta(days=offset))
    token = service_account(BOT_USERNAME, ["community"])
    demo.say(
        f"{len(members)} community members; the bot's service account "
        f"{BOT_USERNAME} has the token {token.key} (/api/community/)."
    )


def _member_fields(i: int) -> dict:
    rng = Demo.rng(f"community-member-{i}")
    return {
        "telegram_username": f"demo_member_{i}",
        "name": f"Demo Member {i}",
        "primary_role": rng.choice(ROLES),
    }


def _members(demo: Demo) -> list[CommunityMember]:
    """Founders first, then members each invited by a founder (in turn)."""
    wanted = [str(TELEGRAM_ID_BASE + i) for i in range(demo.scale * MEMBERS_PER_SCALE)]
    existing = set(
        CommunityMember.all_objects.filter(telegram_id__in=wanted).values_list(
            "telegram_id", flat=True
        )
    )
    founders = list(
        CommunityMember.objects.filter(telegram_id__in=wanted[:FOUNDERS]).order_by(
            "telegram_id"
        )
    )
    for i, telegram_id in enumerate(wanted[:FOUNDERS]):
        if telegram_id not in existing:
            founders.insert(
                i,
                services.member_create(
                    telegram_id=telegram_id,
                    status=MemberStatus.MEMBER,
                    country=COUNTRIES[i % len(COUNTRIES)],
                    **_member_fields(i),
                ),
            )
    new = [
        (i, telegram_id)
        for i, telegram_id in enumerate(wanted)
        if i >= FOUNDERS and telegram_id not in existing
    ]
    for i, telegram_id in demo.progress(new, "community members", len(new)):
        invitation = services.invitation_create(created_by=founders[i % FOUNDERS])
        services.invitation_accept(
            invitation_code=invitation.invitation_code,
            telegram_id=telegram_id,
            **_member_fields(i),
        )
    return list(
        CommunityMember.objects.filter(telegram_id__in=wanted).order_by("created_at")
    )


def _pending_invitations(founders: list[CommunityMember]) -> None:
    for founder in founders:
        pending = CommunityInvitation.objects.filter(
            created_by=founder, status=InvitationStatus.PENDING
        )
        if not pending.exists():
            services.invitation_create(created_by=founder)


def _reputation_and_github(demo: Demo, members: list[CommunityMember]) -> None:
    for member in members[::3]:
        if member.reputation_score == 0:
            rng = demo.rng(f"reputation-{member.telegram_id}")
            services.member_reputation_change(
                member=member, delta=rng.randint(20, 2500), reason="demo activity"
            )
        if not member.github_verified:
            services.member_github_verify(
                member=member,
                github_username=f"demo-gh-{member.telegram_id}",
                profile_data={"public_repos": len(member.name)},
            )


def _participation(demo: Demo, members: list[CommunityMember]) -> None:
    active = set(
        MemberParticipation.objects.filter(
            member__in=[m.member_id for m in members]
        ).values_list("member_id", flat=True)
    )
    fields = [
        "member_id",
        "event_type",
        "platform",
        "room_id",
        "event_metadata",
        "occurred_at",
    ]
    rows = []
    for member in members:
        if member.member_id in active:
            continue
        rng = demo.rng(f"participation-{member.telegram_id}")
        for _ in range(rng.randint(5, 40)):
            kind = rng.choice(["MESSAGE", "MESSAGE", "MESSAGE", "REACTION", "VOICE"])
            metadata = {"minutes": rng.randint(1, 90)} if kind == "VOICE" else None
            when = demo.now - timedelta(seconds=rng.randint(0, DAYS * 86400 - 1))
            rows.append(
                (
                    member.member_id,
                    kind,
                    rng.choice(["telegram", "telegram", "discord"]),
                    rng.choice(ROOMS),
                    metadata,
                    when,
                )
            )
    bulk_insert(demo, MemberParticipation, fields, rows, "community events")
