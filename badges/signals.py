"""What badges tells other apps, without importing them.

``grants_changed`` is sent by ``badges.services`` (not by model saves) after a
grant or revoke, with ``user_ids``: the users whose badges changed. ``profiles``
listens to keep its cached stats right; ``badges`` must not import it
(docs/design.md).
"""

from django.dispatch import Signal

grants_changed = Signal()
