import itertools

import factory
from django.utils import timezone

from community import services
from community.models import CommunityMember, MemberStatus

_telegram_ids = itertools.count(10_000)


class MemberFactory(factory.django.DjangoModelFactory):
    """A member made as the API makes one: through ``services.member_create``,
    which hands out the next ``member_id``. A member (``status=member``) by
    default, so they may invite."""

    class Meta:
        model = CommunityMember

    telegram_id = factory.LazyFunction(lambda: str(next(_telegram_ids)))
    telegram_username = factory.Sequence(lambda n: f"tg_user{n}")
    name = factory.Faker("name")
    primary_role = "developer"
    status = MemberStatus.MEMBER

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.member_create(**kwargs)


def every_community_table(owner) -> None:
    """A row in each community table (tests/conftest.py): two members, an
    accepted invitation (and its INVITED relationship), events of each kind,
    their daily highlights and a pending invitation. Members are not users:
    ``owner`` only names them."""
    inviter = MemberFactory(name=f"inviter of {owner.username}")
    services.member_reputation_change(member=inviter, delta=120, reason="welcome")
    services.member_github_verify(
        member=inviter,
        github_username=f"gh-{inviter.member_id[1:]}",
        profile_data={"login": "x", "public_repos": 3},
    )
    invitation = services.invitation_create(created_by=inviter)
    invitation = services.invitation_accept(
        invitation_code=invitation.invitation_code,
        telegram_id=str(next(_telegram_ids)),
        telegram_username=f"invitee_of_{owner.username}",
        name=f"invitee of {owner.username}",
        primary_role="designer",
    )
    services.participation_record(
        events=[
            {
                "member_id": invitation.accepted_by_id,
                "event_type": "MESSAGE",
                "platform": "telegram",
                "room_id": "general",
            },
            {
                "member_id": inviter.member_id,
                "event_type": "VOICE",
                "platform": "discord",
                "room_id": "voice",
                "event_metadata": {"minutes": 15},
            },
        ]
    )
    services.daily_highlights_build(day=timezone.now().date())
    services.invitation_create(created_by=inviter, invited_telegram_username="someone")
