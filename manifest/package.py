"""Build the Teams app package: manifest.json, one localization file per extra language, icons."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import yaml

from bot.settings import Settings
from content.schema import Lang
from content.templates import Templates
from manifest import icons

APP_FILE = Path(__file__).with_name("app.yaml")
MANIFEST_NAME = "manifest.json"
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# A fixed time in every zip entry, so the same settings and content build the same bytes.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


class ManifestError(ValueError):
    """A package that cannot be built; `problems` has one line per thing to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class AppPackage:
    """The files of a Teams app package, by their name in the zip."""

    manifest: dict[str, Any]
    localizations: dict[str, dict[str, str]] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        return f"wegwijzer-{self.manifest['version']}.zip"

    def zip_bytes(self) -> bytes:
        files = {
            MANIFEST_NAME: _json(self.manifest),
            **{name: _json(strings) for name, strings in self.localizations.items()},
            **self.images,
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
        return buffer.getvalue()

    def write(self, directory: Path) -> Path:
        """Write the zip into `directory` (made if missing) and return its path."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / self.file_name
        path.write_bytes(self.zip_bytes())
        return path


def _json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def load_app(path: Path = APP_FILE) -> dict[str, Any]:
    """The package's declarations (manifest/app.yaml)."""
    app: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return app


def _required_settings(settings: Settings) -> list[str]:
    problems = []
    for name, why in (
        ("TEAMS_APP_ID", "the Teams app's own id, a GUID (make one with uuidgen)"),
        ("APP_ID", "the bot's Entra app id, a GUID"),
    ):
        if not GUID.match(getattr(settings, name)):
            problems.append(f"{name}: must be a GUID ({why})")
    for name, what in (
        ("DEVELOPER_URL", "the page about the app"),
        ("PRIVACY_URL", "the privacy statement"),
        ("TERMS_URL", "the terms of use"),
    ):
        if not getattr(settings, name).lower().startswith("https://"):
            problems.append(f"{name}: must be an https:// address ({what})")
    return problems


def _valid_domains(settings: Settings) -> list[str]:
    """The hosts the app sends people to: its own pages and the offers' links."""
    urls = [settings.DEVELOPER_URL, settings.PRIVACY_URL, settings.TERMS_URL]
    urls += settings.links().values()
    return sorted({host for url in urls if (host := urlsplit(url).hostname)})


def _commands(
    app: dict[str, Any], templates: Templates, lang: Lang
) -> tuple[list[dict[str, Any]], list[str]]:
    """The command lists in one language, and the titles the bot would not understand."""
    lists, problems = [], []
    for scope, entries in app["scopes"].items():
        commands = []
        for entry in entries:
            title = templates.text(entry["title"], lang)
            words = templates.commands.get(entry["command"], frozenset())
            if templates.command(title) != entry["command"]:
                problems.append(
                    f"{entry['title']} ({lang}): {title!r} is not one of the words for "
                    f"{entry['command']!r} in content/commands.yaml ({sorted(words)})"
                )
            commands.append(
                {"title": title, "description": templates.text(entry["description"], lang)}
            )
        lists.append({"scopes": [scope], "commands": commands})
    return lists, problems


def _translated(
    app: dict[str, Any], templates: Templates, lang: Lang
) -> tuple[dict[str, Any], list[str]]:
    """The manifest's texts in one language, and the command titles the bot would not know."""
    command_lists, problems = _commands(app, templates, lang)
    texts = {
        part: {length: templates.text(app[part][length], lang) for length in ("short", "full")}
        for part in ("name", "description")
    }
    return {**texts, "bots": [{"commandLists": command_lists}]}, problems


def build_package(settings: Settings, templates: Templates) -> AppPackage:
    """The app package for these settings; ManifestError lists everything to fix first."""
    app = load_app()
    default: Lang = app["default_language"]
    texts, problems = _translated(app, templates, default)
    others = {lang: _translated(app, templates, lang) for lang in app["languages"]}
    problems = _required_settings(settings) + problems
    problems += [problem for _, found in others.values() for problem in found]
    if problems:
        raise ManifestError(problems)
    manifest = {
        "$schema": app["schema"],
        "manifestVersion": app["manifest_version"],
        "version": settings.TEAMS_APP_VERSION,
        "id": settings.TEAMS_APP_ID,
        "localizationInfo": {
            "defaultLanguageTag": default,
            "additionalLanguages": [
                {"languageTag": lang, "file": f"{lang}.json"} for lang in app["languages"]
            ],
        },
        "developer": {
            "name": settings.DEVELOPER_NAME,
            "websiteUrl": settings.DEVELOPER_URL,
            "privacyUrl": settings.PRIVACY_URL,
            "termsOfUseUrl": settings.TERMS_URL,
        },
        "name": texts["name"],
        "description": texts["description"],
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": app["accent_color"],
        "bots": [
            {
                "botId": settings.APP_ID,
                "scopes": list(app["scopes"]),
                "commandLists": texts["bots"][0]["commandLists"],
                "supportsFiles": False,
                "isNotificationOnly": False,
            }
        ],
        "validDomains": _valid_domains(settings),
        "defaultInstallScope": "personal",
    }
    localizations = {
        f"{lang}.json": {"$schema": app["localization_schema"], **localizable_strings(translated)}
        for lang, (translated, _) in others.items()
    }
    return AppPackage(
        manifest=manifest,
        localizations=localizations,
        images={
            COLOR_ICON: icons.png(icons.color_icon()),
            OUTLINE_ICON: icons.png(icons.outline_icon()),
        },
    )


def localizable_strings(manifest: dict[str, Any]) -> dict[str, str]:
    """The strings of a manifest that a localization file must translate, by their key."""
    strings = {
        f"{part}.{length}": manifest[part][length]
        for part in ("name", "description")
        for length in ("short", "full")
        if length in manifest.get(part, {})
    }
    for bot in manifest.get("bots", [])[:1]:
        for i, command_list in enumerate(bot.get("commandLists", [])):
            for j, command in enumerate(command_list.get("commands", [])):
                for key in ("title", "description"):
                    if key in command:
                        strings[f"bots[0].commandLists[{i}].commands[{j}].{key}"] = command[key]
    return strings
