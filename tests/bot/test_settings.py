import re
import socket
from pathlib import Path

import pytest

from bot.settings import Environment, SettingsError, load_settings

PRODUCTION = {
    "ENVIRONMENT": "production",
    "APP_ID": "00000000-0000-0000-0000-000000000001",
    "APP_PASSWORD": "secret",
    "APP_TYPE": "SingleTenant",
    "APP_TENANTID": "tenant-1",
    "ALLOWED_TENANT_IDS": "tenant-1",
    "DATABASE_URL": "postgresql+asyncpg://wegwijzer:geheim@db.example/wegwijzer",
    "ENCRYPTION_KEYS": "HuvrbTaHWY13tJXDANuCQYu5iMNc2OhvSRlsVqbv9kQ=",
    "PUBLIC_URL": "https://wegwijzer.example",
    "LINK_SIGNING_KEY": "test-only-link-signing-key-0123456789abcdef",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in [
        *PRODUCTION,
        "PORT",
        "DATABASE_URL",
        "TOOLKIT_DIR",
        "HOST",
        "ALLOW_UNAUTHENTICATED_ON_NETWORK",
        "ALLOWED_SERVICE_URL_HOSTS",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's leaks in


def test_development_is_the_default_and_allows_an_empty_app_id() -> None:
    settings = load_settings()
    assert settings.ENVIRONMENT is Environment.DEVELOPMENT
    assert settings.APP_ID == ""
    assert settings.PORT == 3978
    assert settings.DATABASE_URL.startswith("sqlite+aiosqlite:///./data/")
    assert not settings.auth_enabled


def test_allowed_tenants_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_TENANT_IDS", " a , b,,c ")
    assert load_settings().ALLOWED_TENANT_IDS == ["a", "b", "c"]


def test_complete_production_settings_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.is_production and settings.auth_enabled


@pytest.mark.parametrize(
    "missing",
    [
        "APP_ID",
        "APP_PASSWORD",
        "APP_TENANTID",
        "ALLOWED_TENANT_IDS",
        "DATABASE_URL",
        "ENCRYPTION_KEYS",
        "PUBLIC_URL",
        "LINK_SIGNING_KEY",
    ],
)
def test_production_refuses_to_start_without(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        if name != missing:
            monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=missing):
        load_settings()


@pytest.mark.parametrize("app_id", ["wegwijzer", "00000000-0000-0000-0000-00000000000"])
def test_production_refuses_an_app_id_that_is_not_a_guid(
    app_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**PRODUCTION, "APP_ID": app_id}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value) == (
        "APP_ID: must be the app registration's application (client) id, a GUID"
    )


def test_production_refuses_a_multi_tenant_app(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**PRODUCTION, "APP_TYPE": "MultiTenant"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="SingleTenant"):
        load_settings()


def test_production_names_every_problem_on_a_line_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    lines = str(refused.value).splitlines()
    named = ["APP_ID", "APP_PASSWORD", "APP_TENANTID", "APP_TYPE", "ALLOWED_TENANT_IDS"]
    assert [line.split(":")[0] for line in lines] == [
        *named,
        "DATABASE_URL",
        "ENCRYPTION_KEYS",
        "PUBLIC_URL",
        "LINK_SIGNING_KEY",
    ]


def test_production_in_the_container_names_every_missing_setting_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("HOST", "0.0.0.0")  # as the Dockerfile sets it
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).splitlines()[0].startswith("APP_ID: not set")
    assert len(str(refused.value).splitlines()) == 9


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///./data/wegwijzer.db", "mysql://wegwijzer:geheim@db/wegwijzer"]
)
def test_production_refuses_a_database_that_is_not_postgresql_without_showing_its_password(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**PRODUCTION, "DATABASE_URL": url}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith("DATABASE_URL: ")
    assert "postgresql+asyncpg://user:password@host/db" in str(refused.value)
    assert "geheim" not in str(refused.value)


def test_a_flow_adds_its_own_requirement_to_the_same_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import settings

    monkeypatch.setattr(
        settings,
        "PRODUCTION_REQUIREMENTS",
        [
            *settings.PRODUCTION_REQUIREMENTS,
            settings.required("BUREAU_TEAM_ID", "the Bureau's team"),
        ],
    )
    for name, value in {**PRODUCTION, "BUREAU_TEAM_ID": ""}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=r"^BUREAU_TEAM_ID: not set \(the Bureau's team\)$"):
        load_settings()


def test_a_bad_port_is_refused_with_a_readable_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(SettingsError, match="PORT"):
        load_settings()


def test_cli_explains_a_refused_configuration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("ENVIRONMENT", "production")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "wegwijzer: configuration refused:"
    assert err[1] == "  APP_ID: not set (the bot's Entra app registration)"
    assert len(err) == 10


def test_serve_refuses_bad_content_with_the_problems_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot.cli import main

    offers = tmp_path / "toolkit" / "offers"
    offers.mkdir(parents=True)
    (offers / "kapot.md").write_text("---\nid: kapot\n---\nTekst\n", encoding="utf-8")
    monkeypatch.setenv("TOOLKIT_DIR", str(tmp_path / "toolkit"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "content refused" in err and "kapot.md" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "bot.example"])
def test_serving_without_authentication_beyond_loopback_is_refused(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST", host)
    with pytest.raises(SettingsError, match="ALLOW_UNAUTHENTICATED_ON_NETWORK"):
        load_settings()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_serving_without_authentication_on_loopback_is_allowed(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST", host)
    assert not load_settings().auth_enabled


def test_a_plainly_named_development_setting_allows_it_on_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("ALLOW_UNAUTHENTICATED_ON_NETWORK", "true")
    assert load_settings().HOST == "0.0.0.0"


def test_production_refuses_the_unauthenticated_development_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {**PRODUCTION, "ALLOW_UNAUTHENTICATED_ON_NETWORK": "true"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="ALLOW_UNAUTHENTICATED_ON_NETWORK"):
        load_settings()


def test_service_url_hosts_default_to_teams_and_are_read_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "smba.trafficmanager.net" in load_settings().ALLOWED_SERVICE_URL_HOSTS
    monkeypatch.setenv("ALLOWED_SERVICE_URL_HOSTS", "a.example, *.b.example")
    assert load_settings().ALLOWED_SERVICE_URL_HOSTS == ["a.example", "*.b.example"]


@pytest.mark.parametrize(("hosts", "reason"), [("", "ALLOWED_SERVICE_URL_HOSTS"), ("*", "'\\*'")])
def test_production_refuses_service_url_hosts_that_allow_anything(
    hosts: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**PRODUCTION, "ALLOWED_SERVICE_URL_HOSTS": hosts}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=reason):
        load_settings()


@pytest.mark.parametrize(
    ("environment", "setting"),
    [
        ({"HOST": "0.0.0.0"}, "ALLOW_UNAUTHENTICATED_ON_NETWORK"),
        ({**PRODUCTION, "ALLOW_UNAUTHENTICATED_ON_NETWORK": "true"}, "ALLOW_UNAUTHENTICATED"),
        ({**PRODUCTION, "ALLOWED_SERVICE_URL_HOSTS": ""}, "ALLOWED_SERVICE_URL_HOSTS"),
    ],
    ids=["unauthenticated-on-network", "production-unauthenticated", "production-no-hosts"],
)
def test_serve_refuses_an_unsafe_setting_in_one_clear_line(
    environment: dict[str, str],
    setting: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "configuration refused" in err and setting in err


def test_outbox_defaults_are_twenty_a_second_and_quiet_evenings_in_amsterdam() -> None:
    settings = load_settings()
    assert settings.OUTBOX_RATE_PER_SECOND == 20
    assert (str(settings.QUIET_HOURS_START), str(settings.QUIET_HOURS_END)) == (
        "20:00:00",
        "08:00:00",
    )
    assert (settings.QUIET_HOURS_WEEKENDS, settings.QUIET_HOURS_TIMEZONE) == (
        True,
        "Europe/Amsterdam",
    )


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("QUIET_HOURS_TIMEZONE", "Mars/Olympus", "not a known time zone"),
        ("OUTBOX_LEASE_SECONDS", "30", "a lease must outlast any send"),
        ("OUTBOX_RATE_PER_SECOND", "60", "OUTBOX_RATE_PER_SECOND"),
        ("QUIET_HOURS_START", "25:00", "QUIET_HOURS_START"),
    ],
)
def test_unsafe_outbox_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=problem):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("ENCRYPTION_KEYS", "not-a-fernet-key-s3cret", "ENCRYPTION_KEYS: encryption key 1 of 1"),
        (
            "ENCRYPTION_KEYS",
            "HuvrbTaHWY13tJXDANuCQYu5iMNc2OhvSRlsVqbv9kQ=,not-a-fernet-key-s3cret",
            "ENCRYPTION_KEYS: encryption key 2 of 2 is not a valid Fernet key",
        ),
        (
            "DATABASE_URL",
            "mysql://wegwijzer:s3cret@db.example/wegwijzer",
            "DATABASE_URL: mysql: is not supported; use sqlite+aiosqlite:///",
        ),
        (
            "DATABASE_URL",
            "postgresql+asyncpg://wegwijzer:s3cret@db.example:port/wegwijzer",
            "DATABASE_URL: not a database URL; use sqlite+aiosqlite:///",
        ),
        ("DATABASE_URL", "wegwijzer:s3cret@db.example", "DATABASE_URL: not a database URL"),
        (
            "PUBLIC_URL",
            "https://wegwijzer.example/bot",
            "PUBLIC_URL: must be the bot's own address",
        ),
        ("BUREAU_CONTACT_URL", "http://bureau.example", "BUREAU_CONTACT_URL: must be an https://"),
        ("BUREAU_CONTACT_EMAIL", "bureau", "BUREAU_CONTACT_EMAIL: must be an e-mail address"),
        ("TOOLKIT_ID_URL", "www.amsterdam.nl/toolkit", "TOOLKIT_ID_URL: must be an https://"),
        ("TEAMS_APP_VERSION", "1.0", "TEAMS_APP_VERSION: must be three whole numbers"),
        ("SESSION_REMINDER_DAYS", "7,x", "SESSION_REMINDER_DAYS: reminder days are whole days"),
        (
            "ALLOWED_SERVICE_URL_HOSTS",
            "https://smba.trafficmanager.net/emea/",
            "ALLOWED_SERVICE_URL_HOSTS: 'https://smba.trafficmanager.net/emea/' is not a host name",
        ),
        (
            "ALLOWED_SERVICE_URL_HOSTS",
            "127.0.0.1:3978",
            "ALLOWED_SERVICE_URL_HOSTS: '127.0.0.1:3978' is not a host name",
        ),
    ],
    ids=[
        "log-level",
        "fernet-key",
        "second-fernet-key",
        "database-scheme",
        "database-port",
        "database-no-scheme",
        "public-url",
        "contact-url",
        "contact-email",
        "offer-link",
        "app-version",
        "reminder-days",
        "service-url-with-scheme-and-path",
        "service-url-with-port",
    ],
)
def test_a_malformed_setting_is_refused_in_one_line_without_its_value(
    name: str,
    value: str,
    problem: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    monkeypatch.setenv(name, value)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wegwijzer: configuration refused: {problem}")
    assert len(err.strip().splitlines()) == 1
    assert "s3cret" not in err


def test_a_log_level_in_lower_case_is_read() -> None:
    assert load_settings(LOG_LEVEL="debug").LOG_LEVEL == "DEBUG"


@pytest.mark.parametrize("command", [["db", "upgrade"], ["outbox", "status"]])
def test_a_database_command_says_in_one_line_that_the_database_cannot_be_reached(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    with socket.socket() as closed:  # a port nobody listens on once it is closed
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql+asyncpg://wegwijzer:s3cret@127.0.0.1:{port}/wegwijzer"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(command) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "wegwijzer: cannot connect to the database (DATABASE_URL): ConnectionRefusedError"
    )
    assert len(err.strip().splitlines()) == 1
    assert "s3cret" not in err


def test_every_setting_is_in_the_readmes_configuration_table() -> None:
    from bot.settings import Settings

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.partition("\n## Configuration\n")[2].partition("\n## ")[0]
    named = {
        name
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])
    }
    assert sorted(set(Settings.model_fields) - named) == []
    assert sorted(named - set(Settings.model_fields)) == []


@pytest.mark.parametrize("command", [["outbox", "status"], ["outbox", "retry", "1"]])
def test_a_database_command_on_a_database_not_yet_migrated_says_to_migrate(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    assert main(command) == 1
    assert capsys.readouterr().err == (
        "wegwijzer: the database is not migrated to this version: "
        "run 'wegwijzer db upgrade' first\n"
    )
