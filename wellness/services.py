"""Writes of the wellness tables with a rule across rows: tag names are
normalised and created as needed, a story's ``tags_cached`` follows its tags
(and a tag's renaming or deletion), a user's habit names and garden are
unique. The API and the admin both call these.

Problems are ``ValidationError``s keyed by the field they concern, so the API
answers 400 naming it and the admin shows it on the form.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from wellness.models import (
    TAG_NAME_LENGTH,
    Garden,
    Habit,
    Story,
    Tag,
    UserFeature,
    UserTag,
    tag_name_normalise,
)

MAX_STORY_TAGS = 20
MAX_INTERESTS = 100  # a user's interests are listed whole


def _taken(field: str, message: str) -> ValidationError:
    """A uniqueness refusal on ``field`` (code ``unique``)."""
    return ValidationError({field: ValidationError(message, code="unique")})


def tag_name_clean(name: str, field: str = "name") -> str:
    """``name`` normalised, or a ``ValidationError`` on ``field`` when nothing
    is left of it or it is too long."""
    normalised = tag_name_normalise(name)
    if not normalised:
        raise ValidationError({field: "A tag name cannot be blank."})
    if len(normalised) > TAG_NAME_LENGTH:
        raise ValidationError(
            {field: f"A tag name has at most {TAG_NAME_LENGTH} characters."}
        )
    return normalised


def tag_names_clean(names: Iterable[str], field: str = "tags") -> list[str]:
    """``names`` normalised, without repeats, in their first order."""
    cleaned = list(dict.fromkeys(tag_name_clean(name, field) for name in names))
    if len(cleaned) > MAX_STORY_TAGS:
        raise ValidationError({field: f"At most {MAX_STORY_TAGS} tags."})
    return cleaned


def tags_get_or_create(names: list[str]) -> list[Tag]:
    """The tags of these (normalised) ``names``, created where missing, in
    the order of ``names``. Safe against a concurrent creator of the same
    name (the insert skips names that exist by then)."""
    if not names:
        return []
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    by_name = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    return [by_name[name] for name in names]


def tag_create(*, name: str) -> Tag:
    name = tag_name_clean(name)
    if Tag.objects.filter(name=name).exists():
        raise _taken("name", f'The tag "{name}" exists already.')
    return Tag.objects.create(name=name)


@transaction.atomic
def tag_rename(*, tag: Tag, name: str) -> Tag:
    """Rename ``tag``, and the name in every story that has it."""
    name = tag_name_clean(name)
    if name == tag.name:
        return tag
    if Tag.objects.filter(name=name).exists():
        raise _taken("name", f'The tag "{name}" exists already.')
    stories = list(Story.objects.filter(tags_cached__has=tag.name).only("tags_cached"))
    for story in stories:
        story.tags_cached = [name if t == tag.name else t for t in story.tags_cached]
    Story.objects.bulk_update(stories, ["tags_cached"], batch_size=500)
    tag.name = name
    tag.save(update_fields=["name"])
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    """Delete ``tag``: users' interest in it goes (the database cascades),
    and its name from every story."""
    stories = list(Story.objects.filter(tags_cached__has=tag.name).only("tags_cached"))
    for story in stories:
        story.tags_cached = [t for t in story.tags_cached if t != tag.name]
    Story.objects.bulk_update(stories, ["tags_cached"], batch_size=500)
    tag.delete()


def interest_add(*, user, tag: str) -> UserTag:
    """Add the tag named ``tag`` (created if new) to ``user``'s interests."""
    name = tag_name_clean(tag, "tag")
    if UserTag.objects.filter(user=user).count() >= MAX_INTERESTS:
        raise ValidationError({"tag": f"You have {MAX_INTERESTS} interests already."})
    (found,) = tags_get_or_create([name])
    interest, created = UserTag.objects.get_or_create(user=user, tag=found)
    if not created:
        raise _taken("tag", f'"{found.name}" is one of your interests already.')
    return interest


def interest_remove(*, user, tag: str) -> None:
    """Remove the tag named ``tag`` from ``user``'s interests; a name they
    do not have is ``UserTag.DoesNotExist``."""
    deleted, _ = UserTag.objects.filter(
        user=user, tag__name=tag_name_normalise(tag)
    ).delete()
    if not deleted:
        raise UserTag.DoesNotExist(f'"{tag}" is not one of your interests.')


@transaction.atomic
def tag_users_change(*, tag: Tag, add: Iterable = (), remove: Iterable = ()) -> None:
    """Staff's edit of who is interested in ``tag`` (the admin's tag page)."""
    remove = list(remove)
    if remove:
        UserTag.objects.filter(tag=tag, user__in=remove).delete()
    UserTag.objects.bulk_create(
        [UserTag(user=user, tag=tag) for user in add if user not in remove],
        ignore_conflicts=True,
    )


@transaction.atomic
def story_create(*, user, tags: Iterable[str] = (), **fields) -> Story:
    """A story of ``user`` with these tag names (created as needed)."""
    names = [tag.name for tag in tags_get_or_create(tag_names_clean(tags))]
    return Story.objects.create(user=user, tags_cached=names, **fields)


@transaction.atomic
def story_update(*, story: Story, tags: Iterable[str] | None = None, **fields) -> Story:
    """Change ``story``'s fields, and its tags when ``tags`` is given."""
    if tags is not None:
        fields["tags_cached"] = [
            tag.name for tag in tags_get_or_create(tag_names_clean(tags))
        ]
    for name, value in fields.items():
        setattr(story, name, value)
    story.save(update_fields=[*fields, "updated_at"])
    return story


def habit_name_check(*, user, name: str, habit: Habit | None = None) -> None:
    others = Habit.objects.filter(user=user, name=name)
    if habit is not None:
        others = others.exclude(pk=habit.pk)
    if others.exists():
        raise _taken("name", "You already have a habit with this name.")


def habit_create(*, user, name: str, **fields) -> Habit:
    habit_name_check(user=user, name=name)
    return Habit.objects.create(user=user, name=name, **fields)


def habit_update(*, habit: Habit, **fields) -> Habit:
    if "name" in fields:
        habit_name_check(user=habit.user_id, name=fields["name"], habit=habit)
    for name, value in fields.items():
        setattr(habit, name, value)
    habit.save(update_fields=list(fields))
    return habit


def garden_create(*, user, name: str, theme: str | None = None) -> Garden:
    """``user``'s garden; they have at most one."""
    if Garden.objects.filter(user=user).exists():
        raise _taken("user_id", "You have a garden already: change or delete it.")
    return Garden.objects.create(user=user, name=name, theme=theme)


def features_create(*, user, vector: list, version: int = 1) -> UserFeature:
    """``user``'s feature vector; they have at most one (change it instead)."""
    if UserFeature.objects.filter(user=user).exists():
        raise _taken("user_id", "You have a feature vector already: change it.")
    return UserFeature.objects.create(user=user, vector=vector, version=version)
