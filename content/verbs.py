"""Card verbs: the name of every action a card button can take, defined once.

Templates write a verb as `verbs.FINDER` (a Jinja global, see `content.templates`), handlers
register under the same member, and nothing spells a verb as a string anywhere else. An
`Action.Execute` carries its verb in `verb`; an `Action.Submit` (the personal chat's button)
carries it in its data under `VERB_FIELD`.

Adding a verb: add a member here, use it in a card template, register a handler for it in the
action router (`bot/actions.py`).
"""

from __future__ import annotations

from enum import StrEnum

VERB_FIELD = "action"


class Verb(StrEnum):
    """What a pressed button asks the bot to do."""

    MENU = "menu"
    HELP = "help"
    FINDER = "finder"
    ITEM = "item"
    HELP_REQUEST = "help_request"
    WETHOUDER = "wethouder"
    COACHING = "coaching"
    MY_DATA = "my_data"
    SIGNUP = "signup"
    APPLY = "apply"
    LINK_MISSING = "link_missing"
    REMINDERS_OFF = "reminders_off"
    REMINDERS_ON = "reminders_on"
    CONTACT = "contact"  # how to reach the Bureau
    # Answered by the dialogs, not the action router: they end the flow that is running.
    ASK = "ask"  # treat the text typed at a finder question as a free question
    STOP = "stop"
    # Sessions (the wethouder conversations): a manager's buttons in their personal chat.
    SESSION_FORM = "session_form"
    SESSION_SIGNUP = "session_signup"
    MY_SESSIONS = "my_sessions"
    SESSION_CANCEL = "session_cancel"
    SESSION_ACCEPT = "session_accept"
    SESSION_EVALUATE = "session_evaluate"
    # Sessions: the Bureau's buttons in its channel (Universal Actions, Bureau members only).
    SESSION_NEW = "session_new"  # the form to plan one
    SESSION_SHOW = "session_show"  # a session's card as it is now (its refresh)
    SESSION_CREATE = "session_create"
    SESSION_EDIT = "session_edit"  # the form to change one
    SESSION_CHANGE = "session_change"
    SESSION_CALL_OFF = "session_call_off"
    SESSION_PARTICIPANTS = "session_participants"
    SESSION_REMOVE = "session_remove"
    # Help requests: the requester's buttons in their personal chat.
    MY_HELP_REQUESTS = "my_help_requests"
    HELP_REQUEST_VIEW = "help_request_view"
    HELP_REQUEST_WITHDRAW = "help_request_withdraw"
    HELP_REQUEST_ANSWER_FORM = "help_request_answer_form"
    HELP_REQUEST_ANSWER = "help_request_answer"
    # Help requests: the Bureau's buttons on a request's card (bot/bureau_actions.py).
    HELP_REQUEST_REFRESH = "help_request_refresh"
    HELP_REQUEST_CLAIM = "help_request_claim"
    HELP_REQUEST_ASSIGN_FORM = "help_request_assign_form"
    HELP_REQUEST_ASSIGN = "help_request_assign"
    HELP_REQUEST_STATUS = "help_request_status"
    HELP_REQUEST_REPLY = "help_request_reply"
    HELP_REQUEST_NOTE = "help_request_note"


def verb_of(value: object) -> Verb | None:
    """The verb a string names, or None when it names none (an old or forged card)."""
    try:
        return Verb(value) if isinstance(value, str) else None
    except ValueError:
        return None
