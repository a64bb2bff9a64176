"""Lifecycles, declared once per record type: its states (the names people read, tag colours) and the
actions on it (who may take each, from which states, to which state, the button's words).

Rules move records only through `Lifecycle.apply`; pages list what `Lifecycle.allowed` returns; audit
history, emails and exports read the same names. A feature declares its lifecycle in its own
`lifecycle.py`; every declaration registers here so audit labels can be found by event name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from grants.core.audit import record_event
from grants.core.refusals import Refused

NO_CHANGE = "No change has been made."

# A guard says why an action cannot be taken now (or None when it can); it sees who, what and the date.
Guard = Callable[[Any, Any, date], "str | None"]


@dataclass(frozen=True)
class State:
    key: str
    name: str  # as people read it, on pages, in emails, history and exports
    colour: str  # GOV.UK tag colour
    stored: bool = True  # False: worked out from the calendar (e.g. Overdue), never kept in the table
    public: str = ""  # as the published register names it, where that differs from `name`


@dataclass(frozen=True)
class Action:
    """Something a person may do to a record: a move to another state, or (target None) a change within one."""

    key: str
    label: str  # the button's words
    sources: tuple[str, ...]
    target: str | None
    roles: tuple[str, ...]  # who may take it; an empty tuple means the rules take it themselves
    event: str | None = None  # audit event name; defaults to "<record>.<target>"
    event_label: str | None = None  # how history names the event; defaults to the target state's name
    endpoint: str | None = None  # the page that takes it; None: no button of its own
    method: str = "get"  # "get": a link to a form; "post": a button that acts at once
    style: str = ""  # "", "secondary" or "warning"
    guards: tuple[Guard, ...] = ()
    not_now: str = ""  # why the action waits for other states, said after "This <noun> is <state>: "

    def text(self, record: Any) -> str:
        """The button's words for this record ("Issue to {record.organisation.name}")."""
        return self.label.format(record=record)

    @property
    def classes(self) -> str:
        return f"govuk-button--{self.style}" if self.style else ""


@dataclass
class Lifecycle:
    record: str  # the audit object type: the table name
    noun: str  # "bid", "agreement" ... as a sentence names one
    id_arg: str  # the URL argument naming one record, e.g. "bid_id"
    states: tuple[State, ...]
    actions: tuple[Action, ...]
    events: dict[str, str] = field(default_factory=dict)  # audit events that are not moves: name -> label
    initial: str = ""
    event_prefix: str = ""  # audit event names start "<prefix>."; defaults to the record
    # Works out a state from the calendar (e.g. "overdue") or None to show the stored one.
    calendar: Callable[[Any, date], str | None] | None = None
    # The record's answers as people name them (its form's labels), and the audit event whose note lists the
    # answers a change touched: history says what changed in these words.
    fields: dict[str, str] = field(default_factory=dict)
    fields_event: str = ""

    def __post_init__(self) -> None:
        self._states = {s.key: s for s in self.states}
        self._actions = {a.key: a for a in self.actions}
        if len(self._actions) != len(self.actions) or len(self._states) != len(self.states):
            raise ValueError(f"{self.record}: state or action declared twice")
        for action in self.actions:
            for key in (*action.sources, *([action.target] if action.target else [])):
                if key not in self._states or not self._states[key].stored:
                    raise ValueError(f"{self.record}.{action.key}: unknown or unstored state {key!r}")
        self.initial = self.initial or self.states[0].key
        self.event_prefix = self.event_prefix or self.record
        self._event_labels = self._label_events()
        REGISTRY[self.record] = self

    # --- names, for pages, emails, history and exports ---------------------------------------------------

    def state(self, key: str) -> State:
        return self._states[key]

    def name(self, key: str | None) -> str:
        return "" if key is None else self._states[key].name

    def public_name(self, key: str) -> str:
        state = self._states[key]
        return state.public or state.name

    def shown(self, record: Any, today: date) -> State:
        """The state to show for a record today: its stored state, or one the calendar gives it."""
        derived = self.calendar(record, today) if self.calendar else None
        return self._states[derived or record.status]

    @property
    def stored_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.states if s.stored)

    def choices(self, keys: Iterable[str] | None = None) -> list[tuple[str, str]]:
        wanted = list(keys) if keys is not None else [s.key for s in self.states]
        return [(k, self._states[k].name) for k in wanted]

    def event_name(self, action: Action) -> str:
        return action.event or f"{self.event_prefix}.{action.target}"

    def event_labels(self) -> dict[str, str]:
        """Each audit event this record's lifecycle writes, with how history names it."""
        return dict(self._event_labels)

    def _label_events(self) -> dict[str, str]:
        labels = dict(self.events)
        for action in self.actions:
            if action.target is not None:
                labels.setdefault(self.event_name(action), action.event_label or self._states[action.target].name)
            elif action.event:
                labels.setdefault(action.event, action.event_label or action.label)
        return labels

    # --- who may do what, now ---------------------------------------------------------------------------

    def action(self, key: str) -> Action:
        return self._actions[key]

    def refusal(self, key: str, user: Any, record: Any, today: date) -> str | None:
        """Why `user` cannot take action `key` on `record` today, or None when they can."""
        action = self._actions[key]
        status = record.status
        if status not in action.sources:
            now = f"This {self.noun} is {self._states[status].name.lower()}"
            if action.not_now:
                return f"{now}: {action.not_now}"
            if action.target is not None and action.target != status:
                return f"{now}, so it cannot become {self._states[action.target].name.lower()}."
            return f"{now}, so you cannot {action.text(record).lower()} now."
        if user is not None and user.role not in action.roles:
            return f"You cannot {action.text(record).lower()} on this {self.noun}."
        for guard in action.guards:
            reason = guard(user, record, today)
            if reason:
                return reason
        return None

    def allowed(self, user: Any, record: Any, today: date) -> list[Action]:
        """The actions with a page of their own that this user may take on this record now, in declared order."""
        return [a for a in self.actions
                if a.endpoint and user.role in a.roles and self.refusal(a.key, user, record, today) is None]

    def check(self, key: str, user: Any, record: Any, today: date) -> Action:
        """Refuse (raise) unless the action may be taken now; returns the action."""
        reason = self.refusal(key, user, record, today)
        if reason:
            raise Refused(f"{reason} {NO_CHANGE}")
        return self._actions[key]

    def apply(self, key: str, user: Any, record: Any, today: date, *, note: str = "",
              details: dict[str, Any] | None = None, system: bool = False) -> Action:
        """Take the action: check it, move the record and write the audit event, in the caller's transaction.

        `system` is for moves the rules make themselves as part of another (cancel payments when a grant ends):
        the state is still checked, but not the person."""
        if system:
            action = self._actions[key]
            if record.status not in action.sources:
                raise Refused(f"This {self.noun} is {self.name(record.status).lower()}. {NO_CHANGE}")
        else:
            action = self.check(key, user, record, today)
        from_state = record.status
        if action.target is not None:
            record.status = action.target
        record_event(user, self.event_name(action), record, object_type=self.record, from_state=from_state,
                     to_state=record.status, note=note, details=details)
        return action


REGISTRY: dict[str, Lifecycle] = {}


def check_in(column: str, keys: Iterable[str]) -> str:
    """A CHECK constraint keeping a column to the given keys."""
    return f"{column} in ({','.join(repr(k) for k in keys)})"


def event_label(event: Any) -> str:
    """How history names an audit event: from its record's lifecycle, else from the event's own name."""
    for lifecycle in REGISTRY.values():
        label = lifecycle._event_labels.get(event.action)
        if label:
            return label
    return str(event.action).replace("_", " ").replace(".", ": ").capitalize()


def changed_fields(lifecycle: Lifecycle, names: Iterable[str]) -> str:
    """The fields a change touched, as a note for history: "Bid title, Costed budget"."""
    return ", ".join(lifecycle.fields.get(name, name) for name in names)


def event_note(event: Any) -> str:
    """An audit event's note as history shows it. Notes written before changes were recorded in people's words
    list field names ("local_issue, budget_lines"); those are shown with the fields' labels. Audit events are
    never edited, so this is done as they are read."""
    note = str(event.note or "")
    lifecycle = REGISTRY.get(event.object_type)
    if lifecycle is None or not note or event.action != lifecycle.fields_event:
        return note
    names = note.split(", ")
    return changed_fields(lifecycle, names) if all(name in lifecycle.fields for name in names) else note
