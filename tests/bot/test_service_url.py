import pytest

from bot.service_url import TEAMS_SERVICE_URL_HOSTS, ServiceUrlPolicy, is_loopback

PRODUCTION = ServiceUrlPolicy(TEAMS_SERVICE_URL_HOSTS, allow_any_loopback=False)
DEVELOPMENT = ServiceUrlPolicy(TEAMS_SERVICE_URL_HOSTS, allow_any_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://smba.trafficmanager.net/emea/",
        "https://smba.trafficmanager.net/amer/",
        "https://SMBA.trafficmanager.net./teams/",
        "https://webchat.botframework.com/",
        "https://europe.webchat.botframework.com/",
    ],
)
def test_teams_service_urls_are_accepted(url: str) -> None:
    assert PRODUCTION.refusal(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        (42, "missing"),
        ("http://smba.trafficmanager.net/emea/", "not https"),
        ("ftp://smba.trafficmanager.net/", "not https"),
        ("https://smba.trafficmanager.net.evil.example/", "not allowed"),
        ("https://evilsmba.trafficmanager.net/", "not allowed"),
        ("https://botframework.com.evil.example/", "not allowed"),
        ("https://evil.example/?smba.trafficmanager.net", "not allowed"),
        ("https://user:pw@smba.trafficmanager.net/", "credentials"),
        ("https://smba.trafficmanager.net:notaport/", "unreadable"),
        ("https:///emea", "no host"),
        ("http://127.0.0.1:3978/", "not allowed"),
        ("https://169.254.169.254/", "not allowed"),
    ],
)
def test_other_service_urls_are_refused(url: object, reason: str) -> None:
    refusal = PRODUCTION.refusal(url)
    assert refusal is not None and reason in refusal


def test_development_accepts_loopback_over_http_and_nothing_else_new() -> None:
    assert DEVELOPMENT.refusal("http://127.0.0.1:50123/") is None
    assert DEVELOPMENT.refusal("http://localhost:50123/") is None
    assert DEVELOPMENT.refusal("http://[::1]:50123/") is None
    assert DEVELOPMENT.refusal("http://10.0.0.5:3978/") is not None
    assert DEVELOPMENT.refusal("https://evil.example/") is not None


def test_a_listed_loopback_host_is_accepted_over_http_in_production() -> None:
    policy = ServiceUrlPolicy(["127.0.0.1"], allow_any_loopback=False)
    assert policy.refusal("http://127.0.0.1:50123/") is None
    assert policy.refusal("http://localhost:50123/") is not None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True), ("0.0.0.0", False)],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
