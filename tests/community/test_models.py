"""The community tables as the database holds them: the migration forward and
back, foreign keys to members, CHECK and unique constraints, the seed's
indexes (present everywhere, and chosen by PostgreSQL's planner), the soft
delete of members, and reputation tiers."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from community import services
from community.models import (
    CommunityInvitation,
    CommunityMember,
    EventType,
    InvitationStatus,
    MemberDailyHighlight,
    MemberParticipation,
    MemberRelationship,
    MemberStatus,
    Platform,
    RelationshipType,
    ReputationTier,
    tier_for,
)
from tests.community.factories import MemberFactory

pytestmark = pytest.mark.django_db

COMMUNITY_TABLES = {
    "community_invitations",
    "community_members",
    "member_relationships",
    "member_participation",
    "member_daily_highlights",
    "community_member_id_sequence",
}

# The seed's index names, by table.
SEED_INDEXES = {
    "community_members": {
        "member_telegram_id_idx",
        "member_github_username_idx",
        "member_status_idx",
        "member_reputation_score_idx",
    },
    "community_invitations": {
        "invitation_code_idx",
        "invitation_status_idx",
        "invitation_created_by_idx",
    },
    "member_relationships": {
        "relationship_entity_a_idx",
        "relationship_entity_b_idx",
        "relationship_type_idx",
    },
    "member_participation": {
        "participation_member_id_idx",
        "participation_event_type_idx",
        "participation_occurred_at_idx",
    },
    "member_daily_highlights": {"highlight_member_date_idx"},
}

MISSING = "#999999"  # no member has this id


def community_tables() -> set[str]:
    return COMMUNITY_TABLES & set(connection.introspection.table_names())


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


# --- the migration, forward and back ------------------------------------------------


def assert_migrated_and_working() -> None:
    assert community_tables() == COMMUNITY_TABLES
    for table, names in SEED_INDEXES.items():
        assert names <= index_names(table), table
    # The recreated tables work: a member, an invitation and its acceptance.
    invitation = services.invitation_create(created_by=MemberFactory())
    services.invitation_accept(
        invitation_code=invitation.invitation_code,
        telegram_id="4242",
        name="Back Again",
        primary_role="developer",
    )
    assert list(
        CommunityMember.objects.order_by("member_id").values_list("member_id", "status")
    ) == [("#1", MemberStatus.MEMBER), ("#2", MemberStatus.MEMBER)]
    assert MemberRelationship.objects.count() == 1


def test_migrating_to_zero_drops_the_six_tables_and_forward_recreates_them(
    transactional_db,
):
    assert community_tables() == COMMUNITY_TABLES
    try:
        call_command("migrate", "community", "zero", verbosity=0)
        assert community_tables() == set()
    finally:
        call_command("migrate", "community", verbosity=0)
    assert_migrated_and_working()


# Children first: SQLite has no DROP TABLE ... CASCADE.
DROP_ORDER = [
    "member_daily_highlights",
    "member_participation",
    "community_invitations",
    "member_relationships",
    "community_member_id_sequence",
    "community_members",
]


def test_migrating_forward_on_a_database_without_the_tables_creates_them(
    transactional_db,
):
    """The forward half on its own, on both databases: the tables are dropped
    by hand and the migration marked unapplied, then it runs for real."""
    cascade = " CASCADE" if connection.vendor == "postgresql" else ""
    try:
        with connection.cursor() as cursor:
            for table in DROP_ORDER:
                cursor.execute(f"DROP TABLE {table}{cascade}")
        call_command("migrate", "community", "zero", fake=True, verbosity=0)
        assert community_tables() == set()
    finally:
        call_command("migrate", "community", verbosity=0)
    assert_migrated_and_working()


def test_every_seed_index_exists_under_its_name():
    for table, names in SEED_INDEXES.items():
        assert names <= index_names(table), (table, names - index_names(table))


# --- foreign keys to community_members.member_id ------------------------------------


def invitation_created_by_nobody(creator):
    CommunityInvitation.objects.create(
        invitation_code="ABCDEFGHJKMNPQRS",
        created_by_id=MISSING,
        expires_at=timezone.now() + timedelta(days=1),
    )


def invitation_accepted_by_nobody(creator):
    CommunityInvitation.objects.create(
        invitation_code="ABCDEFGHJKMNPQRS",
        created_by=creator,
        expires_at=timezone.now() + timedelta(days=1),
        status=InvitationStatus.ACCEPTED,
        accepted_by_id=MISSING,
        accepted_at=timezone.now(),
    )


def member_invited_by_nobody(creator):
    CommunityMember.objects.create(
        member_id="#999998",
        telegram_id="999998",
        name="Orphan",
        primary_role="developer",
        invited_by_id=MISSING,
    )


def participation_of_nobody(creator):
    MemberParticipation.objects.create(
        member_id=MISSING,
        event_type=EventType.MESSAGE,
        platform=Platform.TELEGRAM,
        room_id="general",
    )


def highlight_of_nobody(creator):
    MemberDailyHighlight.objects.create(
        member_id=MISSING, highlight_date=date(2024, 3, 10)
    )


@pytest.mark.parametrize(
    "write",
    [
        invitation_created_by_nobody,
        invitation_accepted_by_nobody,
        member_invited_by_nobody,
        participation_of_nobody,
        highlight_of_nobody,
    ],
)
def test_a_reference_to_a_member_who_does_not_exist_is_refused(write):
    """PostgreSQL checks these keys at commit (they are deferred):
    ``check_constraints`` runs that check now; SQLite's is a PRAGMA."""
    creator = MemberFactory()
    before = (
        CommunityMember.all_objects.count(),
        CommunityInvitation.objects.count(),
        MemberParticipation.objects.count(),
        MemberDailyHighlight.objects.count(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        write(creator)
        connection.check_constraints()
    assert before == (
        CommunityMember.all_objects.count(),
        CommunityInvitation.objects.count(),
        MemberParticipation.objects.count(),
        MemberDailyHighlight.objects.count(),
    )


def test_a_reference_to_a_member_who_does_not_exist_fails_at_commit(
    transactional_db,
):
    with pytest.raises(IntegrityError), transaction.atomic():
        participation_of_nobody(None)
    assert not MemberParticipation.objects.exists()


def test_references_to_existing_members_are_accepted():
    creator = MemberFactory()
    with transaction.atomic():
        CommunityInvitation.objects.create(
            invitation_code="ABCDEFGHJKMNPQRS",
            created_by=creator,
            expires_at=timezone.now() + timedelta(days=1),
            status=InvitationStatus.ACCEPTED,
            accepted_by=creator,
            accepted_at=timezone.now(),
        )
        MemberParticipation.objects.create(
            member=creator,
            event_type=EventType.MESSAGE,
            platform=Platform.TELEGRAM,
            room_id="general",
        )
        MemberDailyHighlight.objects.create(
            member=creator, highlight_date=date(2024, 3, 10)
        )
        connection.check_constraints()
    assert CommunityInvitation.objects.filter(created_by=creator).count() == 1


# --- CHECK constraints --------------------------------------------------------------


@pytest.fixture
def rows():
    """A member with a pending invitation, an event and a daily highlight."""
    member = MemberFactory(telegram_id="7001")
    invitation = services.invitation_create(created_by=member)
    services.participation_record(
        events=[
            {
                "member_id": member.member_id,
                "event_type": EventType.MESSAGE,
                "platform": Platform.TELEGRAM,
                "room_id": "general",
            }
        ]
    )
    services.daily_highlights_build(day=timezone.now().date())
    MemberRelationship.objects.create(
        entity_id_a=member.member_id,
        entity_id_b="#2",
        relationship_type=RelationshipType.MENTORED,
        content={},
    )
    return member, invitation


def execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE community_members SET status = 'banned'",
        "UPDATE community_invitations SET status = 'used'",
        "UPDATE member_participation SET event_type = 'TYPING'",
        "UPDATE member_participation SET platform = 'slack'",
        "UPDATE member_relationships SET relationship_type = 'HATES'",
    ],
)
def test_database_refuses_a_value_outside_the_choices(rows, sql):
    with pytest.raises(IntegrityError), transaction.atomic():
        execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE community_members SET reputation_score = 600",
        "UPDATE community_members SET reputation_tier = 'Champion'",
        "UPDATE community_members SET reputation_score = 100",
        "UPDATE community_members SET reputation_score = 2000, "
        "reputation_tier = 'Expert'",
        "UPDATE community_members SET reputation_score = -1, "
        "reputation_tier = 'Contributor'",
    ],
)
def test_database_refuses_a_tier_that_does_not_match_the_score(rows, sql):
    with pytest.raises(IntegrityError), transaction.atomic():
        execute(sql)


def test_database_refuses_a_null_tier(rows):
    with pytest.raises(IntegrityError), transaction.atomic():
        execute("UPDATE community_members SET reputation_tier = NULL")


@pytest.mark.parametrize(
    "score, tier",
    [
        (-5, "Novice"),
        (99, "Novice"),
        (100, "Contributor"),
        (600, "Expert"),
        (2000, "Champion"),
    ],
)
def test_database_accepts_the_tier_that_matches_the_score(rows, score, tier):
    member, _ = rows
    execute(
        "UPDATE community_members SET reputation_score = %s, reputation_tier = %s",
        [score, tier],
    )
    member.refresh_from_db()
    assert (member.reputation_score, member.reputation_tier) == (score, tier)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE community_invitations SET status = 'accepted'",
        "UPDATE community_invitations SET status = 'accepted', "
        "accepted_at = created_at",
        "UPDATE community_invitations SET status = 'accepted', "
        "accepted_by = created_by",
        "UPDATE community_invitations SET accepted_by = created_by, "
        "accepted_at = created_at",
        "UPDATE community_invitations SET accepted_at = created_at",
    ],
)
def test_database_ties_accepted_status_to_who_accepted_and_when(rows, sql):
    with pytest.raises(IntegrityError), transaction.atomic():
        execute(sql)


def test_database_accepts_an_accepted_invitation_with_who_and_when(rows):
    _, invitation = rows
    execute(
        "UPDATE community_invitations SET status = 'accepted', "
        "accepted_by = created_by, accepted_at = created_at"
    )
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED


@pytest.mark.parametrize("column", ["message_count", "reaction_count", "voice_minutes"])
def test_database_refuses_a_negative_daily_count(rows, column):
    with pytest.raises(IntegrityError), transaction.atomic():
        execute(f"UPDATE member_daily_highlights SET {column} = -1")  # noqa: S608


def test_database_allows_negative_reputation_earned(rows):
    member, _ = rows
    execute("UPDATE member_daily_highlights SET reputation_earned = -50")
    assert member.daily_highlights.get().reputation_earned == -50


def test_database_refuses_a_verified_github_account_without_a_time(rows):
    with pytest.raises(IntegrityError), transaction.atomic():
        execute(
            "UPDATE community_members SET github_username = 'octo', "
            "github_verified = true"
        )


def test_member_id_sequence_holds_one_row(rows):
    with pytest.raises(IntegrityError), transaction.atomic():
        execute(
            "INSERT INTO community_member_id_sequence (id, last_value) VALUES (2, 5)"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        execute("UPDATE community_member_id_sequence SET id = 3")


# --- unique -------------------------------------------------------------------------


def test_telegram_id_is_unique(rows):
    with pytest.raises(IntegrityError), transaction.atomic():
        CommunityMember.objects.create(
            member_id="#777", telegram_id="7001", name="Twin", primary_role="x"
        )


def test_telegram_id_stays_taken_by_a_deleted_member(rows):
    member, _ = rows
    services.member_delete(member=member)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommunityMember.objects.create(
            member_id="#777", telegram_id="7001", name="Twin", primary_role="x"
        )


def test_member_id_is_unique(rows):
    member, _ = rows
    with pytest.raises(IntegrityError), transaction.atomic():
        CommunityMember.objects.create(
            member_id=member.member_id,
            telegram_id="7002",
            name="Twin",
            primary_role="x",
        )


def test_invitation_code_is_unique(rows):
    member, invitation = rows
    with pytest.raises(IntegrityError), transaction.atomic():
        CommunityInvitation.objects.create(
            invitation_code=invitation.invitation_code,
            created_by=member,
            expires_at=timezone.now() + timedelta(days=1),
        )


def test_one_highlight_per_member_and_day(rows):
    member, _ = rows
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberDailyHighlight.objects.create(
            member=member, highlight_date=timezone.now().date()
        )
    MemberDailyHighlight.objects.create(
        member=member, highlight_date=timezone.now().date() - timedelta(days=1)
    )
    assert member.daily_highlights.count() == 2


def verify_raw(member, username: str) -> None:
    execute(
        "UPDATE community_members SET github_username = %s, github_verified = true, "
        "github_verified_at = created_at WHERE member_id = %s",
        [username, member.member_id],
    )


def test_one_verified_member_per_github_username_ignoring_case():
    first, second = MemberFactory.create_batch(2)
    verify_raw(first, "OctoCat")
    with pytest.raises(IntegrityError), transaction.atomic():
        verify_raw(second, "octocat")
    second.refresh_from_db()
    assert not second.github_verified


def test_unverified_members_may_share_a_github_username():
    first, second, third = MemberFactory.create_batch(3)
    verify_raw(first, "octocat")
    execute(
        "UPDATE community_members SET github_username = 'OCTOCAT' "
        "WHERE member_id IN (%s, %s)",
        [second.member_id, third.member_id],
    )
    assert (
        CommunityMember.objects.filter(github_username__iexact="octocat").count() == 3
    )


# --- the seed's indexes, as PostgreSQL's planner uses them --------------------------


ROWS = 1000
DAY = date(2024, 3, 10)


def fill_members() -> None:
    CommunityMember.objects.bulk_create(
        CommunityMember(
            member_id=f"#{n}",
            telegram_id=str(100_000 + n),
            name=f"Member {n}",
            primary_role="developer",
            github_username=f"gh-{n}",
            status=MemberStatus.SUSPENDED if n % 500 == 0 else MemberStatus.MEMBER,
            reputation_score=n,
            reputation_tier=tier_for(n),
        )
        for n in range(1, ROWS + 1)
    )


def fill_invitations() -> None:
    fill_members()
    now = timezone.now()
    CommunityInvitation.objects.bulk_create(
        CommunityInvitation(
            invitation_code=f"CODE{n:012d}",
            created_by_id=f"#{n % 200 + 1}",
            status=InvitationStatus.REVOKED if n % 500 == 0 else "pending",
            expires_at=now + timedelta(days=1),
        )
        for n in range(ROWS)
    )


def fill_relationships() -> None:
    MemberRelationship.objects.bulk_create(
        MemberRelationship(
            entity_id_a=f"#{n % 400}",
            entity_id_b=f"#{n}",
            relationship_type=(
                RelationshipType.MENTORED if n % 500 == 0 else RelationshipType.INVITED
            ),
            content={},
        )
        for n in range(ROWS)
    )


def fill_participation() -> None:
    fill_members()
    start = timezone.now() - timedelta(days=ROWS)
    MemberParticipation.objects.bulk_create(
        MemberParticipation(
            member_id=f"#{n % 400 + 1}",
            event_type=EventType.VOICE if n % 500 == 0 else EventType.MESSAGE,
            platform=Platform.TELEGRAM,
            room_id="general",
            occurred_at=start + timedelta(days=n),
        )
        for n in range(ROWS * 2)
    )


def fill_highlights() -> None:
    fill_members()
    MemberDailyHighlight.objects.bulk_create(
        MemberDailyHighlight(member_id=f"#{n}", highlight_date=DAY - timedelta(days=d))
        for n in range(1, 201)
        for d in range(20)
    )


MEMBERS = "SELECT * FROM community_members WHERE "
INVITATIONS = "SELECT * FROM community_invitations WHERE "
RELATIONSHIPS = "SELECT * FROM member_relationships WHERE "
PARTICIPATION = "SELECT * FROM member_participation WHERE "


INDEX_QUERIES = [
    (
        fill_members,
        "community_members",
        MEMBERS + "telegram_id = %s",
        ["100017"],
        "member_telegram_id_idx",
    ),
    (
        fill_members,
        "community_members",
        MEMBERS + "github_username = %s",
        ["gh-17"],
        "member_github_username_idx",
    ),
    (
        fill_members,
        "community_members",
        MEMBERS + "status = %s",
        ["suspended"],
        "member_status_idx",
    ),
    (
        fill_members,
        "community_members",
        MEMBERS + "reputation_score > %s",
        [ROWS - 5],
        "member_reputation_score_idx",
    ),
    (
        fill_invitations,
        "community_invitations",
        INVITATIONS + "invitation_code = %s",
        ["CODE000000000017"],
        "invitation_code_idx",
    ),
    (
        fill_invitations,
        "community_invitations",
        INVITATIONS + "status = %s",
        ["revoked"],
        "invitation_status_idx",
    ),
    (
        fill_invitations,
        "community_invitations",
        INVITATIONS + "created_by = %s",
        ["#17"],
        "invitation_created_by_idx",
    ),
    (
        fill_participation,
        "member_participation",
        PARTICIPATION + "member_id = %s",
        ["#17"],
        # Not the seed's participation_member_id_idx: this one leads with the
        # member too, and serves their events by time (schema-decisions.md).
        "participation_member_time_idx",
    ),
    (
        fill_participation,
        "member_participation",
        PARTICIPATION + "event_type = %s",
        ["VOICE"],
        "participation_event_type_idx",
    ),
    (
        fill_participation,
        "member_participation",
        PARTICIPATION + "occurred_at > now() - interval '3 days'",
        [],
        "participation_occurred_at_idx",
    ),
    (
        fill_relationships,
        "member_relationships",
        RELATIONSHIPS + "entity_id_a = %s",
        ["#17"],
        "relationship_entity_a_idx",
    ),
    (
        fill_relationships,
        "member_relationships",
        RELATIONSHIPS + "entity_id_b = %s",
        ["#17"],
        "relationship_entity_b_idx",
    ),
    (
        fill_relationships,
        "member_relationships",
        RELATIONSHIPS + "relationship_type = %s",
        ["MENTORED"],
        "relationship_type_idx",
    ),
    (
        fill_highlights,
        "member_daily_highlights",
        "SELECT * FROM member_daily_highlights "
        "WHERE member_id = %s AND highlight_date = %s",
        ["#17", DAY],
        "highlight_member_date_idx",
    ),
]


@pytest.mark.parametrize(
    "fill, table, sql, params, index",
    [pytest.param(*query, id=query[-1]) for query in INDEX_QUERIES],
)
def test_query_reads_the_seed_index(postgresql, fill, table, sql, params, index):
    fill()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


# --- soft delete --------------------------------------------------------------------


def test_default_manager_hides_deleted_members_and_all_objects_shows_them():
    kept, gone = MemberFactory.create_batch(2)
    services.member_delete(member=gone)
    assert list(CommunityMember.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not CommunityMember.objects.filter(pk=gone.pk).exists()
    assert set(CommunityMember.all_objects.values_list("pk", flat=True)) == {
        kept.pk,
        gone.pk,
    }
    assert list(CommunityMember.all_objects.deleted()) == [gone]
    assert list(CommunityMember.all_objects.live()) == [kept]
    assert CommunityMember.all_objects.get(pk=gone.pk).is_deleted


def test_references_still_reach_a_deleted_member():
    creator = MemberFactory()
    invitation = services.invitation_create(created_by=creator)
    invitation = services.invitation_accept(
        invitation_code=invitation.invitation_code,
        telegram_id="8001",
        name="Newcomer",
        primary_role="designer",
    )
    services.member_delete(member=creator)
    services.member_delete(member=CommunityMember.objects.get(telegram_id="8001"))

    fresh = CommunityInvitation.objects.get(pk=invitation.pk)
    assert fresh.created_by.pk == creator.pk
    assert fresh.created_by.is_deleted
    assert fresh.accepted_by.telegram_id == "8001"
    joined = CommunityInvitation.objects.select_related(
        "created_by", "accepted_by"
    ).get(pk=invitation.pk)
    assert joined.created_by.member_id == creator.member_id
    newcomer = CommunityMember.all_objects.get(telegram_id="8001")
    assert newcomer.invited_by.pk == creator.pk


# --- reputation tiers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "score, tier",
    [
        (-(2**31), ReputationTier.NOVICE),
        (-1, ReputationTier.NOVICE),
        (0, ReputationTier.NOVICE),
        (99, ReputationTier.NOVICE),
        (100, ReputationTier.CONTRIBUTOR),
        (499, ReputationTier.CONTRIBUTOR),
        (500, ReputationTier.EXPERT),
        (1999, ReputationTier.EXPERT),
        (2000, ReputationTier.CHAMPION),
        (2**31 - 1, ReputationTier.CHAMPION),
    ],
)
def test_tier_for_thresholds(score, tier):
    assert tier_for(score) == tier
