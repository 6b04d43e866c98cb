"""The Teams app package: built from settings and content, valid for Teams, checked beyond."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from PIL import Image

from bot.settings import Settings
from content.templates import Templates, load_templates
from manifest.check import check_package
from manifest.package import AppPackage, ManifestError, build_package

# The package is built and checked with Pillow: a deprecated call (as Image.getdata became in
# Pillow 12.1) fails here, before it is removed under us in a later major version.
pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas"
MANIFEST_SCHEMA = SCHEMAS / "teams/v1.22/MicrosoftTeams.schema.json"
TEAMS_APP_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
BOT_ID = "0b1c2d3e-4f50-4617-a8b9-cadbecfd0e1f"
PACKAGE_SETTINGS: dict[str, Any] = {
    "TEAMS_APP_ID": TEAMS_APP_ID,
    "APP_ID": BOT_ID,
    "DEVELOPER_URL": "https://www.amsterdam.nl/wegwijzer-id/",
    "PRIVACY_URL": "https://www.amsterdam.nl/privacy/",
    "TERMS_URL": "https://www.amsterdam.nl/wegwijzer-id/voorwaarden/",
    "TOOLKIT_ID_URL": "https://intranet.amsterdam.nl/toolkit-id",
}


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates()


@pytest.fixture
def package(templates: Templates) -> AppPackage:
    return build_package(_settings(**PACKAGE_SETTINGS), templates)


def _zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _with_manifest(data: bytes, change: Any, name: str = "manifest.json") -> bytes:
    files = _zip_files(data)
    document = json.loads(files[name])
    change(document)
    files[name] = json.dumps(document).encode()
    return _rezip(files)


def test_the_zip_holds_the_manifest_its_translation_and_two_icons(package: AppPackage) -> None:
    files = _zip_files(package.zip_bytes())
    assert sorted(files) == ["color.png", "en.json", "manifest.json", "outline.png"]
    manifest = json.loads(files["manifest.json"])
    assert manifest["id"] == TEAMS_APP_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["manifestVersion"] == "1.22"
    assert manifest["developer"]["privacyUrl"] == "https://www.amsterdam.nl/privacy/"
    assert manifest["validDomains"] == ["intranet.amsterdam.nl", "www.amsterdam.nl"]


def test_the_manifest_is_valid_against_microsofts_schema(package: AppPackage) -> None:
    schema = json.loads(MANIFEST_SCHEMA.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    manifest = json.loads(_zip_files(package.zip_bytes())["manifest.json"])
    assert list(Draft4Validator(schema).iter_errors(manifest)) == []


def test_the_built_package_passes_every_check(package: AppPackage) -> None:
    assert check_package(package.zip_bytes(), SCHEMAS) == []


def test_the_bot_is_in_personal_and_team_scope_with_a_command_list_for_each(
    package: AppPackage,
) -> None:
    bot = package.manifest["bots"][0]
    assert bot["scopes"] == ["personal", "team"]
    assert [command_list["scopes"] for command_list in bot["commandLists"]] == [
        ["personal"],
        ["team"],
    ]


def test_every_command_title_is_a_word_the_bot_understands_in_both_languages(
    package: AppPackage, templates: Templates
) -> None:
    english = package.localizations["en.json"]
    for i, command_list in enumerate(package.manifest["bots"][0]["commandLists"]):
        for j, command in enumerate(command_list["commands"]):
            translated = english[f"bots[0].commandLists[{i}].commands[{j}].title"]
            assert templates.command(command["title"]) in {
                "menu",
                "stop",
                "wethouder",
                "my_sessions",
                "my_help_requests",
                "bureau_link",
                "bureau_sessions",
                "bureau_new_session",
            }
            assert templates.command(translated) == templates.command(command["title"])


def test_names_and_descriptions_come_in_dutch_and_english(
    package: AppPackage, templates: Templates
) -> None:
    assert package.manifest["localizationInfo"]["defaultLanguageTag"] == "nl"
    english = package.localizations["en.json"]
    assert package.manifest["description"]["short"] == templates.text("app_description_short", "nl")
    assert english["description.short"] == templates.text("app_description_short", "en")
    assert english["description.full"] != package.manifest["description"]["full"]
    assert english["name.short"] == "Wegwijzer I&D"


def test_the_icons_have_teams_sizes_and_the_outline_is_white_on_transparent(
    package: AppPackage,
) -> None:
    color = Image.open(io.BytesIO(package.images["color.png"]))
    outline = Image.open(io.BytesIO(package.images["outline.png"]))
    assert color.format == outline.format == "PNG"
    assert color.size == (192, 192) and outline.size == (32, 32)
    alphas = {alpha for *_, alpha in outline.convert("RGBA").get_flattened_data()}
    assert 0 in alphas and 255 in alphas
    colours = {
        (r, g, b) for r, g, b, alpha in outline.convert("RGBA").get_flattened_data() if alpha
    }
    assert colours == {(255, 255, 255)}


def test_building_twice_gives_the_same_bytes(package: AppPackage, templates: Templates) -> None:
    again = build_package(_settings(**PACKAGE_SETTINGS), templates)
    assert again.zip_bytes() == package.zip_bytes()


def test_the_build_names_every_missing_setting_on_its_own_line(templates: Templates) -> None:
    with pytest.raises(ManifestError) as refused:
        build_package(_settings(PRIVACY_URL="http://not-secure.example"), templates)
    settings_named = [problem.split(":")[0] for problem in refused.value.problems]
    assert settings_named == ["TEAMS_APP_ID", "APP_ID", "DEVELOPER_URL", "PRIVACY_URL", "TERMS_URL"]


# What draft-04 cannot check, and the check command can.


def test_a_wrong_manifest_version_passes_the_schema_but_not_the_check(
    package: AppPackage,
) -> None:
    def old_version(manifest: dict[str, Any]) -> None:
        manifest["manifestVersion"] = "1.0"

    changed = _with_manifest(package.zip_bytes(), old_version)
    manifest = json.loads(_zip_files(changed)["manifest.json"])
    schema = json.loads(MANIFEST_SCHEMA.read_text(encoding="utf-8"))
    assert list(Draft4Validator(schema).iter_errors(manifest)) == []  # const is draft-06
    assert any("manifestVersion" in problem for problem in check_package(changed, SCHEMAS))


def test_the_check_refuses_a_coloured_outline_icon_and_a_wrong_size(package: AppPackage) -> None:
    files = _zip_files(package.zip_bytes())
    red = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    red.putpixel((5, 5), (255, 0, 0, 255))
    buffer = io.BytesIO()
    red.save(buffer, format="PNG")
    files["outline.png"] = buffer.getvalue()
    files["color.png"] = files["outline.png"]
    problems = check_package(_rezip(files), SCHEMAS)
    assert "outline.png: must be white on transparent, it has other colours" in problems
    assert "color.png: must be 192x192, is 32x32" in problems


def test_the_check_refuses_an_outline_icon_without_transparency(package: AppPackage) -> None:
    files = _zip_files(package.zip_bytes())
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (255, 255, 255)).save(buffer, format="PNG")
    files["outline.png"] = buffer.getvalue()
    problems = check_package(_rezip(files), SCHEMAS)
    assert any("outline.png: must have a transparent background" in p for p in problems)


def test_the_check_refuses_a_command_title_twice(package: AppPackage) -> None:
    def same_titles(manifest: dict[str, Any]) -> None:
        commands = manifest["bots"][0]["commandLists"][0]["commands"]
        commands[1]["title"] = commands[0]["title"].upper()

    problems = check_package(_with_manifest(package.zip_bytes(), same_titles), SCHEMAS)
    assert any("has a title twice" in problem for problem in problems)


def test_the_check_refuses_a_missing_or_empty_translation(package: AppPackage) -> None:
    def drop_one(strings: dict[str, Any]) -> None:
        del strings["description.full"]
        strings["name.full"] = " "

    problems = check_package(_with_manifest(package.zip_bytes(), drop_one, "en.json"), SCHEMAS)
    assert "en.json: description.full is not translated" in problems
    assert "en.json: name.full is empty" in problems


def test_the_check_reports_schema_errors_with_their_place(package: AppPackage) -> None:
    def bad_bot_id(manifest: dict[str, Any]) -> None:
        manifest["bots"][0]["botId"] = "not-a-guid"

    problems = check_package(_with_manifest(package.zip_bytes(), bad_bot_id), SCHEMAS)
    assert any(p.startswith("manifest.json: bots/0/botId: ") for p in problems)


def test_the_check_refuses_what_is_not_a_zip() -> None:
    assert check_package(b"not a zip", SCHEMAS) == ["package: not a zip file"]


def test_the_package_built_in_memory_is_not_changed_by_the_checks(package: AppPackage) -> None:
    before = copy.deepcopy(package.manifest)
    check_package(package.zip_bytes(), SCHEMAS)
    assert package.manifest == before


def test_the_cli_builds_a_package_that_the_cli_then_finds_valid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)  # no developer's .env
    for name, value in PACKAGE_SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TEAMS_APP_VERSION", "1.2.3")
    assert main(["manifest", "build", "--out", str(tmp_path / "out")]) == 0
    zip_path = tmp_path / "out" / "wegwijzer-1.2.3.zip"
    assert capsys.readouterr().out.strip() == str(zip_path)
    assert main(["manifest", "check", str(zip_path), "--schemas", str(SCHEMAS)]) == 0
    assert "valid" in capsys.readouterr().out


def test_the_cli_refuses_to_build_without_ids_and_says_which(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    for name in PACKAGE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert main(["manifest", "build", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "TEAMS_APP_ID: must be a GUID" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.zip"))


def test_the_cli_says_in_one_line_that_it_cannot_read_or_write_a_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    for name, value in PACKAGE_SETTINGS.items():
        monkeypatch.setenv(name, value)
    missing = tmp_path / "wegwijzer-1.0.0.zip"
    assert main(["manifest", "check", str(missing)]) == 1
    assert capsys.readouterr().err == (
        f"wegwijzer: cannot read {missing}: No such file or directory\n"
    )
    a_file = tmp_path / "dist"
    a_file.write_text("not a folder", encoding="utf-8")
    assert main(["manifest", "build", "--out", str(a_file)]) == 1
    assert capsys.readouterr().err == (
        f"wegwijzer: cannot write the package into {a_file}: File exists\n"
    )
