"""chatbot's part of ``manage.py seed_demo`` (config/seeding.py): each demo
user gets a few tasks and a conversation with the agent that manages them
(through the services and the default agent, as a user would). Users who
have tasks already are left as they are."""

from chatbot import services
from chatbot.models import Task
from config.seeding import Demo

TASKS = [
    "Water the plants",
    "Call the bank",
    "Read chapter 3",
    "Book the dentist",
    "Fix the bike light",
    "Plan the weekend hike",
]


def seed(demo: Demo) -> None:
    users = list(demo.users())
    busy = set(Task.objects.filter(user__in=users).values_list("user_id", flat=True))
    new = [user for user in users if user.pk not in busy]
    for user in demo.progress(new, "chatbot tasks", len(new)):
        rng = demo.rng(f"chatbot:{user.username}")
        for title in rng.sample(TASKS, 3):
            services.task_create(user=user, title=title)
        conversation = services.conversation_create(user=user, title="My tasks")
        for text in ["list", f"add {rng.choice(TASKS).lower()}", "complete 1"]:
            services.message_post(conversation=conversation, content=text)
    demo.say(f"{len(users)} demo users have tasks and a chat with the agent.")
