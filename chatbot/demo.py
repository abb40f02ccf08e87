"""chatbot's part of ``manage.py seed_demo`` (config/seeding.py): the showcase
users get a few tasks and a conversation with the agent that manages them
(through the services and the default agent, as a user would); every demo
user gets the volume: ``TASKS_PER_USER`` tasks and ``CONVERSATIONS_PER_USER``
conversations of ``MESSAGES_PER_CONVERSATION`` messages each, bulk-inserted
(scale 500: 10 000 users, 50 000 conversations, 500 000 messages). Users who
have them already are left as they are."""

from datetime import timedelta

from chatbot import services
from chatbot.models import Conversation, Message, Role, Task
from config.seeding import Demo, bulk_insert

TASKS = [
    "Water the plants",
    "Call the bank",
    "Read chapter 3",
    "Book the dentist",
    "Fix the bike light",
    "Plan the weekend hike",
]
TASKS_PER_USER = 10
CONVERSATIONS_PER_USER = 5
MESSAGES_PER_CONVERSATION = 10
VOLUME_TITLE = "Planning {n}"
QUESTIONS = ["list", "what is left for today?", "add call the bank", "complete 1"]
ANSWERS = ["Here are your tasks.", "Two left: the bank and the bike light.", "Done."]


def seed(demo: Demo) -> None:
    users = list(demo.users())
    _showcase(demo, demo.showcase(users))
    _volume(demo, users)
    demo.say(f"{len(users)} demo users have tasks and chats with the agent.")


def _showcase(demo: Demo, users: list) -> None:
    busy = set(Task.objects.filter(user__in=users).values_list("user_id", flat=True))
    new = [user for user in users if user.pk not in busy]
    for user in demo.progress(new, "chatbot agent chats", len(new)):
        rng = demo.rng(f"chatbot:{user.username}")
        for title in rng.sample(TASKS, 3):
            services.task_create(user=user, title=title)
        conversation = services.conversation_create(user=user, title="My tasks")
        for text in ["list", f"add {rng.choice(TASKS).lower()}", "complete 1"]:
            services.message_post(conversation=conversation, content=text)


def _volume(demo: Demo, users: list) -> None:
    done = set(
        Conversation.objects.filter(
            user__in=users, title=VOLUME_TITLE.format(n=1)
        ).values_list("user_id", flat=True)
    )
    tasks, conversations, messages = [], [], []
    for user in users:
        if user.pk in done:
            continue
        rng = demo.rng(f"chatbot-volume:{user.username}")
        for n in range(TASKS_PER_USER):
            when = demo.now - timedelta(days=rng.uniform(0, 365))
            tasks.append((user.pk, f"{rng.choice(TASKS)} ({n + 1})", n % 3 == 0, when))
        for n in range(CONVERSATIONS_PER_USER):
            key = demo.uuid_from(rng)
            start = demo.now - timedelta(days=rng.uniform(1, 365))
            step = timedelta(minutes=1)
            for m in range(MESSAGES_PER_CONVERSATION):
                agent = m % 2 == 1
                lines = ANSWERS if agent else QUESTIONS
                messages.append(
                    (
                        key,
                        user.pk,
                        Role.AGENT if agent else Role.USER,
                        rng.choice(lines),
                        start + m * step,
                    )
                )
            last = start + (MESSAGES_PER_CONVERSATION - 1) * step
            title = VOLUME_TITLE.format(n=n + 1)
            conversations.append((key, user.pk, title, start, last))
    fields = ["user_id", "title", "completed", "created_at"]
    bulk_insert(demo, Task, fields, tasks, "chatbot tasks")
    fields = ["id", "user_id", "title", "created_at", "updated_at"]
    bulk_insert(demo, Conversation, fields, conversations, "chatbot conversations")
    fields = ["conversation_id", "user_id", "role", "content", "created_at"]
    bulk_insert(demo, Message, fields, messages, "chatbot messages")
