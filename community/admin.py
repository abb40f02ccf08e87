"""Staff pages for the community directory. Every rule goes through
``community.services``: members are created with the next member id and
deleted softly (a filter shows the deleted, an action restores them);
invitations are accepted and revoked, GitHub verifications and reputation
changes recorded, and daily highlights rebuilt, exactly as the API does."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from community import services
from community.models import (
    CommunityInvitation,
    CommunityMember,
    InvitationStatus,
    MemberDailyHighlight,
    MemberIdSequence,
    MemberParticipation,
    MemberRelationship,
    MemberStatus,
    github_username_validator,
    telegram_id_validator,
)
from config.admin import (
    CreateThroughService,
    DeleteThroughService,
    ObjectFormViews,
    ReadOnlyAdmin,
    related_lists,
)
from config.fields import validate_json_object


def _report(modeladmin, request, done: int, verb: str, skipped: list[str]) -> None:
    message = f"{done} {verb}."
    if skipped:
        message += f" Skipped {len(skipped)}: {'; '.join(skipped)}"
    modeladmin.message_user(
        request, message, messages.WARNING if skipped else messages.SUCCESS
    )


# --- members ------------------------------------------------------------------------


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Not deleted"), ("yes", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.live()
        if self.value() == "yes":
            return queryset.deleted()
        return queryset


class MemberForm(forms.ModelForm):
    def clean_telegram_id(self):
        telegram_id = self.cleaned_data["telegram_id"]
        if self.instance._state.adding:
            try:
                services.member_telegram_id_check(telegram_id)
            except ValidationError as error:
                raise ValidationError(error.message_dict["telegram_id"]) from None
        return telegram_id


class GitHubVerificationForm(forms.Form):
    github_username = forms.CharField(
        max_length=39, validators=[github_username_validator]
    )
    github_verified = forms.BooleanField(
        required=False, initial=True, help_text="Clear to record a failed check."
    )
    github_profile_data = forms.JSONField(
        required=False, validators=[validate_json_object]
    )


class ReputationForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-services.MAX_REPUTATION_DELTA,
        max_value=services.MAX_REPUTATION_DELTA,
        help_text="Points to add; negative to take away.",
    )
    reason = forms.CharField(max_length=200)


@admin.register(CommunityMember)
class CommunityMemberAdmin(
    ObjectFormViews, CreateThroughService, DeleteThroughService, admin.ModelAdmin
):
    form = MemberForm
    list_display = [
        "member_id",
        "name",
        "telegram_username",
        "status",
        "reputation_score",
        "reputation_tier",
        "github_username",
        "github_verified",
        "is_deleted",
        "created_at",
    ]
    list_filter = [DeletedFilter, "status", "reputation_tier", "github_verified"]
    search_fields = [
        "member_id",
        "telegram_username",
        "github_username",
        "name",
        "=telegram_id",
    ]
    readonly_fields = [
        "member_id",
        "object_form_links",
        "related",
        "github_username",
        "github_verified",
        "github_verified_at",
        "github_profile_data",
        "reputation_score",
        "reputation_tier",
        "invited_by",
        "created_at",
        "updated_at",
        "last_active_at",
        "deleted_at",
    ]
    actions = ["restore_members", "verify_github_on_file"]
    object_forms = {
        "verify-github": (GitHubVerificationForm, "Record a GitHub verification"),
        "reputation": (ReputationForm, "Change reputation"),
    }
    related = related_lists("Participation and invitations")

    def get_queryset(self, request):
        return CommunityMember.all_objects.all()

    def get_search_results(self, request, queryset, search_term):
        queryset, duplicates = super().get_search_results(
            request, queryset, search_term
        )
        if request.GET.get("field_name") == "created_by":  # the autocomplete
            queryset = queryset.live().filter(status=MemberStatus.MEMBER)
        return queryset, duplicates

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a Telegram id is who the member is
            return ["telegram_id", *self.readonly_fields]
        return self.readonly_fields

    @admin.display(boolean=True, description="deleted")
    def is_deleted(self, obj):
        return obj.is_deleted

    def object_form_applies(self, obj, name):
        return not obj.is_deleted

    def service_create(self, request, obj, form):
        return services.member_create(
            **{name: form.cleaned_data[name] for name in form.fields}
        )

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        services.member_update(member=obj, **changed)
        return None

    # Deleting is soft: nothing that refers to a member goes, so there is
    # nothing to list or protect on the confirmation page.
    def get_deleted_objects(self, objs, request):
        return [str(obj) for obj in objs], {}, set(), []

    def service_delete(self, request, obj):
        if not obj.is_deleted:
            services.member_delete(member=obj)

    @admin.action(
        description="Restore selected deleted members", permissions=["change"]
    )
    @transaction.atomic
    def restore_members(self, request, queryset):
        restored = 0
        for member in queryset.deleted():
            services.member_restore(member=member)
            restored += 1
        _report(self, request, restored, "member(s) restored", [])

    @admin.action(
        description="Mark the GitHub usernames on file verified", permissions=["change"]
    )
    @transaction.atomic
    def verify_github_on_file(self, request, queryset):
        done, skipped = 0, []
        for member in queryset.live():
            if not member.github_username:
                skipped.append(f"{member.member_id} has no GitHub username")
                continue
            try:
                services.member_github_verify(
                    member=member,
                    github_username=member.github_username,
                    profile_data=member.github_profile_data,
                )
                done += 1
            except ValidationError as error:
                skipped.append(f"{member.member_id}: {' '.join(error.messages)}")
        _report(self, request, done, "GitHub account(s) verified", skipped)

    def object_form_verify_github(self, request, obj, data):
        services.member_github_verify(
            member=obj,
            github_username=data["github_username"],
            verified=data["github_verified"],
            profile_data=data["github_profile_data"],
        )
        return f"GitHub verification of {obj.member_id} recorded."

    def object_form_reputation(self, request, obj, data):
        member = services.member_reputation_change(member=obj, **data)
        return (
            f"{member.member_id} now has {member.reputation_score} points "
            f"({member.reputation_tier})."
        )


# --- invitations --------------------------------------------------------------------


class InvitationForm(forms.ModelForm):
    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at <= timezone.now():
            raise ValidationError("Must be in the future.")
        return expires_at

    def clean_created_by(self):
        created_by = self.cleaned_data["created_by"]
        try:
            services.invitation_creator_check(created_by)
        except ValidationError as error:
            raise ValidationError(error.message_dict["created_by"]) from None
        return created_by


class AcceptForm(forms.Form):
    telegram_id = forms.CharField(max_length=255, validators=[telegram_id_validator])
    telegram_username = forms.CharField(max_length=255, required=False)
    name = forms.CharField(
        max_length=255, required=False, help_text="For someone not in the directory."
    )
    primary_role = forms.CharField(
        max_length=50, required=False, help_text="For someone not in the directory."
    )


@admin.register(CommunityInvitation)
class CommunityInvitationAdmin(ObjectFormViews, CreateThroughService, admin.ModelAdmin):
    """Invitations are created, accepted, revoked and expired; never edited or
    deleted (they are the record of who invited whom)."""

    form = InvitationForm
    list_display = [
        "invitation_code",
        "created_by",
        "invited_telegram_username",
        "status",
        "expires_at",
        "accepted_by",
        "accepted_at",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["invitation_code", "=created_by__member_id"]
    list_select_related = ["created_by", "accepted_by"]
    autocomplete_fields = ["created_by"]
    readonly_fields = ["status", "accepted_by", "accepted_at", "created_at"]
    actions = ["revoke_invitations", "expire_overdue"]
    object_forms = {"accept": (AcceptForm, "Accept")}

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [
                "invitation_code",
                "created_by",
                "invited_telegram_username",
                "expires_at",
                "object_form_links",
                *self.readonly_fields,
                "updated_at",
            ]
        return self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"expires_at": services.invitation_default_expiry()}

    # The change page only shows an invitation (no Save: a save would write
    # back the values it loaded); accepting and revoking need the change
    # permission, which the Accept page and the actions check.
    def has_change_permission(self, request, obj=None):
        return False

    def has_object_form_permission(self, request, obj=None):
        return request.user.has_perm(
            f"{self.opts.app_label}.change_{self.opts.model_name}"
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def object_form_applies(self, obj, name):
        return obj.status == InvitationStatus.PENDING

    def service_create(self, request, obj, form):
        return services.invitation_create(
            created_by=obj.created_by,
            invited_telegram_username=obj.invited_telegram_username,
            expires_at=obj.expires_at,
        )

    def object_form_accept(self, request, obj, data):
        invitation = services.invitation_accept(
            invitation_code=obj.invitation_code,
            telegram_id=data["telegram_id"],
            telegram_username=data["telegram_username"] or None,
            name=data["name"] or None,
            primary_role=data["primary_role"] or None,
        )
        return f"Accepted by {invitation.accepted_by_id}."

    @admin.action(
        description="Revoke selected pending invitations",
        permissions=["object_form"],
    )
    @transaction.atomic
    def revoke_invitations(self, request, queryset):
        done, skipped = 0, []
        for invitation in queryset:
            try:
                services.invitation_revoke(invitation=invitation)
                done += 1
            except ValidationError:
                skipped.append(f"{invitation} is {invitation.status}")
        _report(self, request, done, "invitation(s) revoked", skipped)

    @admin.action(
        description="Expire every overdue invitation (not only selected)",
        permissions=["object_form"],
    )
    def expire_overdue(self, request, queryset):
        expired = services.invitations_expire()
        _report(self, request, expired, "overdue invitation(s) expired", [])


# --- relationships, participation, highlights ---------------------------------------


@admin.register(MemberRelationship)
class MemberRelationshipAdmin(admin.ModelAdmin):
    list_display = ["entity_id_a", "relationship_type", "entity_id_b", "created_at"]
    list_filter = ["relationship_type"]
    search_fields = ["=entity_id_a", "=entity_id_b"]
    readonly_fields = ["created_at"]


@admin.register(MemberParticipation)
class MemberParticipationAdmin(ReadOnlyAdmin):
    """Events come from the bot (the API) and the reputation service."""

    list_display = ["member_handle", "event_type", "platform", "room_id", "occurred_at"]
    list_filter = ["event_type", "platform"]
    search_fields = ["=member__member_id", "=room_id"]

    @admin.display(description="member", ordering="member_id")
    def member_handle(self, obj):
        return obj.member_id


@admin.register(MemberDailyHighlight)
class MemberDailyHighlightAdmin(ReadOnlyAdmin):
    """Sums of participation; "rebuild" sums the selected days again."""

    list_display = [
        "member_handle",
        "highlight_date",
        "message_count",
        "reaction_count",
        "voice_minutes",
        "reputation_earned",
    ]
    search_fields = ["=member__member_id"]
    date_hierarchy = "highlight_date"
    actions = ["rebuild_days"]

    @admin.display(description="member", ordering="member_id")
    def member_handle(self, obj):
        return obj.member_id

    def has_rebuild_permission(self, request):
        return request.user.has_perm("community.add_memberdailyhighlight")

    @admin.action(
        description="Rebuild the days of the selected rows", permissions=["rebuild"]
    )
    def rebuild_days(self, request, queryset):
        days = sorted(set(queryset.values_list("highlight_date", flat=True)))
        for day in days:
            services.daily_highlights_build(day=day)
        _report(self, request, len(days), "day(s) rebuilt", [])


@admin.register(MemberIdSequence)
class MemberIdSequenceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "last_value"]

    def has_delete_permission(self, request, obj=None):
        return False
