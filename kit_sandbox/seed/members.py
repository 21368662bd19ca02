"""Who came in through which form, and who is in which sequence, for
``account_data.py``: drawn from the subscribers' ids (no random draws), so
adding it changed none of the seed's other numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..audience import AccountData

#: A subscriber is put in a sequence this long after signing up.
SEQUENCE_DELAY = timedelta(minutes=10)


def add_members(data: AccountData, now: datetime) -> None:
    """Every subscriber signed up through one of the forms that existed then;
    two in three are in one of the sequences that existed then."""
    for subscriber in data.subscribers.values():
        forms = [f for f in data.forms if f.created_at <= subscriber.created_at]
        if forms:
            form = forms[subscriber.id % len(forms)]
            added = data.form_subscribers.setdefault(form.id, {})
            added[subscriber.id] = subscriber.created_at
        sequences = [s for s in data.sequences if s.created_at <= subscriber.created_at]
        if sequences and subscriber.id % 3:
            sequence = sequences[subscriber.id % len(sequences)]
            added = data.sequence_subscribers.setdefault(sequence.id, {})
            added[subscriber.id] = min(subscriber.created_at + SEQUENCE_DELAY, now)
