"""Validate a Teams app package: Microsoft's schema, and what that draft-04 schema cannot say."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft4Validator
from PIL import Image, UnidentifiedImageError

from manifest import icons
from manifest.package import MANIFEST_NAME, load_app, localizable_strings

# Microsoft's schemas are not copied into the project: a checkout of microsoft/json-schemas
# next to it (the folder layout of its `teams/` directory) is where they are read from.
DEFAULT_SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"
MANIFEST_SCHEMA = "teams/v{version}/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = "teams/v{version}/MicrosoftTeams.Localization.schema.json"
# Teams shows at most this many characters of a command title (its documentation's limit;
# the v1.22 schema allows 128).
MAX_COMMAND_TITLE = 32


def check_package(data: bytes, schemas: Path = DEFAULT_SCHEMAS) -> list[str]:
    """Every problem of the package in `data`, one line each; empty when it is valid."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return ["package: not a zip file"]
    with archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    problems = [f"{name}: Teams wants every file at the zip's top" for name in files if "/" in name]
    manifest = _read_json(files, MANIFEST_NAME, problems)
    if manifest is None:
        return problems
    version = load_app()["manifest_version"]
    if manifest.get("manifestVersion") != version:
        problems.append(
            f"{MANIFEST_NAME}: manifestVersion is {manifest.get('manifestVersion')!r}, "
            f"this project builds {version!r}"
        )
    schema = _read_schema(schemas / MANIFEST_SCHEMA.format(version=version), problems)
    if schema is not None:
        problems += _schema_problems(MANIFEST_NAME, manifest, schema)
    problems += _icon_problems(manifest, files)
    problems += _command_problems(MANIFEST_NAME, manifest)
    problems += _localization_problems(manifest, files, schemas, version)
    return problems


def _read_json(files: dict[str, bytes], name: str, problems: list[str]) -> dict[str, Any] | None:
    if name not in files:
        problems.append(f"{name}: missing from the package")
        return None
    try:
        value = json.loads(files[name])
    except ValueError as error:
        problems.append(f"{name}: not JSON ({error})")
        return None
    if not isinstance(value, dict):
        problems.append(f"{name}: not a JSON object")
        return None
    return value


def _read_schema(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        problems.append(f"schema: {path} not found (pass --schemas, a microsoft/json-schemas copy)")
        return None
    Draft4Validator.check_schema(schema)
    return schema


def _schema_problems(name: str, document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    # Draft-04, as the schema declares. Its `$ref`s all point inside it; nothing is fetched.
    validator = Draft4Validator(schema)
    return [
        f"{name}: {'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def _image(files: dict[str, bytes], name: object, problems: list[str]) -> Image.Image | None:
    if not isinstance(name, str) or name not in files:
        problems.append(f"icons: {name!r} is not in the package")
        return None
    try:
        image = Image.open(io.BytesIO(files[name]))
        image.load()
    except (UnidentifiedImageError, OSError):
        problems.append(f"{name}: not a readable image")
        return None
    if image.format != "PNG":
        problems.append(f"{name}: must be a PNG, is {image.format}")
    return image


def _icon_problems(manifest: dict[str, Any], files: dict[str, bytes]) -> list[str]:
    problems: list[str] = []
    declared = manifest.get("icons", {})
    color = _image(files, declared.get("color"), problems)
    if color is not None and color.size != (icons.COLOR_SIZE, icons.COLOR_SIZE):
        problems.append(f"{declared['color']}: must be 192x192, is {color.size[0]}x{color.size[1]}")
    outline = _image(files, declared.get("outline"), problems)
    if outline is None:
        return problems
    name = declared["outline"]
    if outline.size != (icons.OUTLINE_SIZE, icons.OUTLINE_SIZE):
        problems.append(f"{name}: must be 32x32, is {outline.size[0]}x{outline.size[1]}")
    if outline.mode != "RGBA":
        problems.append(f"{name}: must have a transparent background (is {outline.mode})")
        return problems
    # Mode RGBA (checked above): one (r, g, b, alpha) tuple per pixel.
    pixels = cast("tuple[tuple[int, int, int, int], ...]", outline.get_flattened_data())
    if not any(alpha == 0 for *_, alpha in pixels):
        problems.append(f"{name}: must have a transparent background")
    if not any(alpha > 0 for *_, alpha in pixels):
        problems.append(f"{name}: is empty (fully transparent)")
    if any(alpha > 0 and (r, g, b) != icons.WHITE for r, g, b, alpha in pixels):
        problems.append(f"{name}: must be white on transparent, it has other colours")
    return problems


def _command_problems(name: str, document: dict[str, Any]) -> list[str]:
    """Titles unique within each command list, and short enough for Teams to show."""
    problems = []
    strings = localizable_strings(document)
    lists: dict[str, list[str]] = {}
    for key, value in strings.items():
        if key.endswith(".title") and key.startswith("bots[0]"):
            lists.setdefault(key.split(".commands[")[0], []).append(value)
            if len(value) > MAX_COMMAND_TITLE:
                problems.append(f"{name}: {key} is longer than {MAX_COMMAND_TITLE} characters")
    for list_key, titles in lists.items():
        lowered = [title.strip().lower() for title in titles]
        doubles = sorted({title for title in lowered if lowered.count(title) > 1})
        if doubles:
            problems.append(f"{name}: {list_key} has a title twice: {', '.join(doubles)}")
    return problems


def _localization_problems(
    manifest: dict[str, Any], files: dict[str, bytes], schemas: Path, version: str
) -> list[str]:
    problems: list[str] = []
    wanted = localizable_strings(manifest)
    info = manifest.get("localizationInfo", {})
    schema = None
    for language in info.get("additionalLanguages", []):
        name = language.get("file", "")
        strings = _read_json(files, name, problems)
        if strings is None:
            continue
        if schema is None:
            schema = _read_schema(schemas / LOCALIZATION_SCHEMA.format(version=version), problems)
        if schema is not None:
            problems += _schema_problems(name, strings, schema)
        translated = {key: value for key, value in strings.items() if key != "$schema"}
        for key in sorted(wanted.keys() - translated.keys()):
            problems.append(f"{name}: {key} is not translated")
        for key in sorted(translated.keys() - wanted.keys()):
            problems.append(f"{name}: {key} is not in the manifest")
        for key, value in sorted(translated.items()):
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{name}: {key} is empty")
        problems += _command_problems(name, _as_manifest(translated))
    return problems


def _as_manifest(strings: dict[str, Any]) -> dict[str, Any]:
    """A localization file's command titles in the shape of a manifest, to check them alike."""
    lists: dict[int, dict[int, dict[str, str]]] = {}
    for key, value in strings.items():
        if not key.startswith("bots[0].commandLists["):
            continue
        list_part, rest = key.removeprefix("bots[0].commandLists[").split("].commands[", 1)
        command_part, field = rest.split("].", 1)
        command = lists.setdefault(int(list_part), {}).setdefault(int(command_part), {})
        command[field] = str(value)
    bots = [
        {
            "commandLists": [
                {"commands": [lists[i][j] for j in sorted(lists[i])]} for i in sorted(lists)
            ]
        }
    ]
    return {"bots": bots}
