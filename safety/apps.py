from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Safety: rooms, private messages, reports and moderation"

    def ready(self):
        from config import privacy
        from safety.models import Block

        # The block rule: each of a blocked pair is hidden from the other in
        # every app's reads (docs/design.md#blocks).
        privacy.hide_users_with(Block.objects.hidden_from)
