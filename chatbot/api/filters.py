from chatbot.models import Task
from config.api.filters import FilterSet


class TaskFilter(FilterSet):
    class Meta:
        model = Task
        fields = ["completed"]
