"""A hostile caller at /api/messages: what it sends changes nothing and reaches no one else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import TENANT, RunningBot


@pytest.mark.parametrize(
    "service_url",
    [None, "", "https://evil.example/", "http://10.0.0.5:3978/", "file:///etc/passwd"],
    ids=["absent", "empty", "another-host", "http-on-the-network", "not-http"],
)
async def test_an_activity_with_a_service_url_off_the_list_is_refused(
    running_bot: RunningBot, service_url: str | None
) -> None:
    activity: dict[str, Any] = running_bot.user().says("menu")
    if service_url is None:
        del activity["serviceUrl"]
    else:
        activity["serviceUrl"] = service_url
    status, _ = await running_bot.send(activity)
    assert status == 400
    assert running_bot.connector.requests == []


async def test_the_tenant_is_read_from_teams_own_tenant_id_first(running_bot: RunningBot) -> None:
    activity = running_bot.user().says("menu")
    # Teams says another tenant; a `tenantID` beside it must not make it look like the city's.
    activity["conversation"].update(tenantId="other-tenant", tenantID=TENANT)
    status, messages = await running_bot.send(activity)
    assert status in (200, 201)
    assert messages == []
