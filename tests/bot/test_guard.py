from typing import Any

import pytest
from botbuilder.schema import Activity

from bot.guard import refusal

TENANT = "city-tenant"


def teams_activity(**changes: Any) -> Activity:
    body: dict[str, Any] = {
        "type": "message",
        "channelId": "msteams",
        "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
        **changes,
    }
    return Activity().deserialize(body)


def test_teams_activity_from_the_allowed_tenant_passes() -> None:
    assert refusal(teams_activity(), allowed_tenants={TENANT}, allow_emulator=False) is None


def test_any_tenant_passes_when_none_is_configured_in_development() -> None:
    activity = teams_activity(
        conversation={"id": "a:1", "tenantId": "other"}, channelData={"tenant": {"id": "other"}}
    )
    assert refusal(activity, allowed_tenants=set(), allow_emulator=True) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"channelId": "webchat"}, "channel is not msteams"),
        ({"channelData": {}}, "tenant missing"),
        ({"channelData": None}, "tenant missing"),
        ({"conversation": {"id": "a:1"}}, "tenant missing"),
        ({"channelData": {"tenant": {"id": "evil"}}}, "tenant ids disagree"),
        (
            {
                "conversation": {"id": "a:1", "tenantId": "evil"},
                "channelData": {"tenant": {"id": "evil"}},
            },
            "tenant not allowed",
        ),
    ],
)
def test_activity_is_refused(changes: dict[str, Any], reason: str) -> None:
    assert (
        refusal(teams_activity(**changes), allowed_tenants={TENANT}, allow_emulator=True) == reason
    )


def test_emulator_is_allowed_in_development_only() -> None:
    emulator = teams_activity(channelId="emulator")
    assert refusal(emulator, allowed_tenants={TENANT}, allow_emulator=True) is None
    assert refusal(emulator, allowed_tenants={TENANT}, allow_emulator=False) is not None
