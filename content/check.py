"""Check the toolkit the Bureau edits and report every problem with its file and line.

`wegwijzer content check [DIR]` runs this in CI and on an editor's machine. The loader runs the
same scan, so content that passes the check also loads, and content that does not never reaches
a chat.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from content.schema import BUREAU, Access, Faq, Offer, SynonymGroup, Theme, ToolkitItem
from content.templates import FAST_LOADER

TOOLKIT_DIR = Path(__file__).parent / "toolkit"
# The Bureau's source documents, beside the project (../shared/seeds); a page's sources must name
# one of them when they are there. Without the folder only the shape of a name is checked.
SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SOURCES_HINT = (
    "name seed files such as 000_1ca3b20ec217f7f0.txt,"
    " or 'bureau' for what the Bureau must still confirm"
)
SYNONYMS_FILE = "synoniemen.yaml"
EN_MARKER = "<!-- en -->"
FENCE = "---"
FOLDERS = {"offer": "offers", "theme": "themes", "faq": "faq"}
KIND_OF_FOLDER = {folder: kind for kind, folder in FOLDERS.items()}
MODELS: dict[str, type[Offer] | type[Theme] | type[Faq]] = {
    "offer": Offer,
    "theme": Theme,
    "faq": Faq,
}
# Notes for editors may sit beside the folders; they are not toolkit items.
NOTES = frozenset({"LEESMIJ.md", "README.md", "FACTCHECK-2026-11.md"})
SETTING_NAME = re.compile(r"[A-Z][A-Z0-9_]*")

Loc = Sequence[str | int]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a toolkit file, where an editor can find it."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Source:
    """One toolkit file, split into front matter (as data and as a YAML tree) and body."""

    path: Path
    data: dict[str, Any]
    tree: yaml.Node
    body_line: int
    en_line: int | None
    body: dict[str, str]

    def line(self, loc: Loc) -> int:
        """Return the file line of a field, or of the nearest part of it that exists."""
        if loc and loc[0] == "body":
            english = len(loc) > 1 and loc[1] == "en"
            return self.en_line if english and self.en_line else self.body_line
        # The front matter starts on line 2, after the opening fence.
        return _tree_line(self.tree, loc) + 2


@dataclass(frozen=True)
class Scan:
    """What a scan of a toolkit found: the valid items, the synonym groups and every problem."""

    items: list[ToolkitItem]
    synonyms: list[SynonymGroup]
    problems: list[Problem]


def check_dir(root: Path) -> list[Problem]:
    """Return every problem in the toolkit at root, sorted by file and line."""
    return scan_toolkit(root).problems


def scan_toolkit(root: Path) -> Scan:
    """Read, validate and cross-check every file of the toolkit at root."""
    if not root.is_dir():
        return Scan([], [], [Problem(root, 1, "toolkit folder not found")])
    if not any((root / folder).is_dir() for folder in FOLDERS.values()):
        return Scan([], [], [Problem(root, 1, _expected_folder(root))])
    problems: list[Problem] = []
    paths = _item_paths(root, problems)
    sources = [source for path in paths if (source := _read_source(path, problems))]
    entries = [(item, s) for s in sources if (item := _validate(s, problems))]
    problems += _cross_check(paths, sources, entries)
    synonyms = _read_synonyms(root / SYNONYMS_FILE, problems)
    return Scan([item for item, _ in entries], synonyms, sorted(problems))


def _expected_folder(root: Path) -> str:
    """Say which folder the check expects, for a folder that holds no toolkit."""
    message = "this is not a toolkit folder: it has no offers/, themes/ or faq/"
    nested = root / TOOLKIT_DIR.name
    if nested.is_dir():
        return f"{message}; did you mean {nested}?"
    return f"{message}; point the check at the folder that has them (such as content/toolkit)"


def _item_paths(root: Path, problems: list[Problem]) -> list[Path]:
    """Return the Markdown files in the kind folders; report files that sit anywhere else."""
    paths = []
    for path in sorted(root.rglob("*")):
        if path.is_dir() or any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        in_kind_folder = path.parent.parent == root and path.parent.name in FOLDERS.values()
        if path.suffix == ".md" and in_kind_folder:
            paths.append(path)
        elif path.suffix == ".md" and not (path.parent == root and path.name in NOTES):
            problems.append(Problem(path, 1, "put this file in offers/, themes/ or faq/"))
        elif path.suffix != ".md" and in_kind_folder:
            problems.append(Problem(path, 1, "only .md files belong in this folder"))
    return paths


def _read_source(path: Path, problems: list[Problem]) -> Source | None:
    """Split a file into front matter and the Dutch and English body, or report why not."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        problems.append(Problem(path, 1, "save this file as UTF-8"))
        return None
    if not lines or lines[0].strip() != FENCE:
        problems.append(Problem(path, 1, "start the file with a line '---' and the front matter"))
        return None
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if close is None:
        problems.append(Problem(path, 1, "close the front matter with a line '---'"))
        return None
    parsed = _parse_yaml("\n".join(lines[1:close]), path, 2, problems)
    if parsed is None:
        return None
    data, tree = parsed
    if not isinstance(data, dict):
        problems.append(Problem(path, 2, "front matter must be fields such as 'id: ...'"))
        return None
    body_line = close + 2
    markers = [
        body_line + i for i, text in enumerate(lines[close + 1 :]) if text.strip() == EN_MARKER
    ]
    problems += [
        Problem(path, line, f"'{EN_MARKER}' appears more than once") for line in markers[1:]
    ]
    split = markers[0] - 1 if markers else len(lines)
    body = {"nl": "\n".join(lines[close + 1 : split]).strip()}
    body["en"] = "\n".join(lines[split + 1 :]).strip() if markers else ""
    return Source(path, data, tree, body_line, markers[0] if markers else None, body)


def _parse_yaml(
    text: str, path: Path, first_line: int, problems: list[Problem]
) -> tuple[Any, yaml.Node] | None:
    """Return the data and the node tree of a YAML text that starts at first_line of path."""
    try:
        try:  # libyaml is several times faster at start-up; its errors read less well
            tree = yaml.compose(text, Loader=FAST_LOADER)
            data = yaml.load(text, Loader=FAST_LOADER)
        except yaml.YAMLError:
            tree = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + (mark.line if mark else 0)
        problems.append(Problem(path, line, f"YAML error: {error.problem or error.context}"))
        return None
    except yaml.YAMLError as error:
        problems.append(Problem(path, first_line, f"YAML error: {error}"))
        return None
    if tree is None:
        problems.append(Problem(path, first_line, "this part is empty"))
        return None
    for key in _duplicate_keys(tree):
        line = first_line + key.start_mark.line
        problems.append(Problem(path, line, f"field '{key.value}' appears more than once"))
    return data, tree


def _validate(source: Source, problems: list[Problem]) -> ToolkitItem | None:
    """Return the item a source describes, or None after reporting why it is not valid."""
    path, data = source.path, source.data
    folder_kind = KIND_OF_FOLDER[path.parent.name]
    kind = data.get("kind", folder_kind)
    if not isinstance(kind, str) or kind not in MODELS:
        message = f"unknown kind {kind!r}: use offer, theme or faq"
        problems.append(Problem(path, source.line(["kind"]), message))
        return None
    if kind != folder_kind:
        message = f"a {kind} belongs in {FOLDERS[kind]}/, not in {path.parent.name}/"
        problems.append(Problem(path, source.line(["kind"]), message))
    if "body" in data:
        message = "'body' is not a front matter field: write the text below the front matter"
        problems.append(Problem(path, source.line(["body"]), message))
    body = dict(source.body)
    if not body["nl"]:
        problems.append(
            Problem(path, source.body_line, "missing Dutch text below the front matter")
        )
    if source.en_line is None:
        message = f"missing English part: add a line '{EN_MARKER}' and the English text"
        problems.append(Problem(path, source.body_line, message))
    elif not body["en"]:
        problems.append(Problem(path, source.en_line, f"English part below '{EN_MARKER}' is empty"))
    # A placeholder stands in for a missing part, so that pydantic does not report it twice.
    body = {lang: text or "-" for lang, text in body.items()}
    try:
        return MODELS[kind].model_validate({**data, "kind": kind, "body": body})
    except ValidationError as error:
        problems += [Problem(path, source.line(e["loc"]), _message(e)) for e in error.errors()]
        return None


def _message(error: ErrorDetails) -> str:
    """Say what is wrong with a field in words an editor understands."""
    where = ".".join(str(part) for part in error["loc"])
    if error["loc"][0] == "sources":
        return f"sources: {SOURCES_HINT}"
    if error["type"] == "missing":
        return f"missing field '{where}'"
    if error["type"] == "extra_forbidden":
        return f"unknown field '{where}'"
    return f"{where}: {error['msg'].removeprefix('Value error, ')}"


def _cross_check(
    paths: list[Path], sources: list[Source], entries: list[tuple[ToolkitItem, Source]]
) -> list[Problem]:
    """Report duplicate ids, file names that differ from ids, and links to no item."""
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for source in sources:
        item_id = source.data.get("id")
        if not isinstance(item_id, str):
            continue
        line = source.line(["id"])
        if item_id in seen:
            other = seen[item_id].relative_to(seen[item_id].parent.parent)
            problems.append(Problem(source.path, line, f"duplicate id '{item_id}' (also {other})"))
        seen.setdefault(item_id, source.path)
        if source.path.stem != item_id:
            message = f"file name '{source.path.name}' does not match id: name it {item_id}.md"
            problems.append(Problem(source.path, line, message))
    # A file with problems of its own (reported already) still counts as a link target, by its
    # file name if it does not parse, so that one bad file does not break every link to it.
    data_of = {source.path: source.data for source in sources}
    ids: set[str] = set()
    themes: set[str] = set()
    for path in paths:
        data = data_of.get(path, {})
        item_id = data["id"] if isinstance(data.get("id"), str) else path.stem
        ids.add(item_id)
        if _kind_of(path, data) == "theme":
            themes.add(item_id)
    for item, source in entries:
        problems += _check_sources(item, source)
        problems += _check_links(item, source, ids, themes)
        if isinstance(item, Offer):
            problems += _check_offer(item, source)
    return problems


def _kind_of(path: Path, data: dict[str, Any]) -> str:
    """Return the kind a file declares, or the kind of its folder if it declares no known one."""
    kind = data.get("kind")
    return kind if isinstance(kind, str) and kind in MODELS else KIND_OF_FOLDER[path.parent.name]


def _check_links(
    item: ToolkitItem, source: Source, ids: set[str], themes: set[str]
) -> Iterator[Problem]:
    for index, theme in enumerate(item.themes):
        if theme not in themes:
            yield Problem(source.path, source.line(["themes", index]), f"unknown theme '{theme}'")
    links: list[tuple[Loc, str]] = [(["related", i], r) for i, r in enumerate(item.related)]
    if isinstance(item, Offer):
        links += [
            (["not_for", i, "instead"], x.instead) for i, x in enumerate(item.not_for) if x.instead
        ]
    for loc, target in links:
        if target == item.id:
            yield Problem(source.path, source.line(loc), f"'{target}' links to itself")
        elif target not in ids:
            yield Problem(source.path, source.line(loc), f"broken link: no item with id '{target}'")


def _check_sources(item: ToolkitItem, source: Source) -> Iterator[Problem]:
    """Report sources that name no seed document, when the seeds are at hand."""
    if not SEEDS_DIR.is_dir():
        return
    for index, name in enumerate(item.sources):
        if name != BUREAU and not (SEEDS_DIR / name).is_file():
            message = f"sources: no seed document '{name}' in {SEEDS_DIR}"
            yield Problem(source.path, source.line(["sources", index]), message)


def _check_offer(offer: Offer, source: Source) -> Iterator[Problem]:
    """Report offers whose fields contradict each other."""
    if offer.access is Access.LINK and not offer.link_setting:
        yield Problem(source.path, source.line(["access"]), "access 'link' needs a link_setting")
    if offer.link_setting and not SETTING_NAME.fullmatch(offer.link_setting):
        message = "link_setting must be a setting name such as VERTROUWENSPERSOON_URL"
        yield Problem(source.path, source.line(["link_setting"]), message)
    if offer.sessions and offer.access is not Access.AANMELDEN:
        message = "sessions: true needs access 'aanmelden' (people sign up for a session)"
        yield Problem(source.path, source.line(["sessions"]), message)
    for index, exclusion in enumerate(offer.not_for):
        if exclusion.role in offer.roles:
            message = f"role '{exclusion.role}' is in both roles and not_for"
            yield Problem(source.path, source.line(["not_for", index, "role"]), message)


def _read_synonyms(path: Path, problems: list[Problem]) -> list[SynonymGroup]:
    """Return the synonym groups; report bad groups and words that sit in two groups."""
    if not path.is_file():
        problems.append(Problem(path, 1, f"missing {SYNONYMS_FILE}"))
        return []
    parsed = _parse_yaml(path.read_text(encoding="utf-8"), path, 1, problems)
    if parsed is None:
        return []
    data, tree = parsed
    if not isinstance(data, list):
        problems.append(Problem(path, 1, "write the groups as a list: '- [woord, ander woord]'"))
        return []
    groups: list[SynonymGroup] = []
    seen: dict[str, int] = {}
    for index, words in enumerate(data):
        try:
            group = SynonymGroup(words=words)
        except ValidationError as error:
            for e in error.errors():
                line = 1 + _tree_line(tree, [index, *e["loc"][1:]])
                problems.append(Problem(path, line, _synonym_message(e)))
            continue
        for number, word in enumerate(group.words):
            line = 1 + _tree_line(tree, [index, number])
            key = word.strip().lower()
            if not key:
                problems.append(Problem(path, line, "empty word"))
            elif key in seen:
                problems.append(
                    Problem(path, line, f"'{word}' is already in the group on line {seen[key]}")
                )
            seen.setdefault(key, line)
        groups.append(group)
    return groups


def _synonym_message(error: ErrorDetails) -> str:
    if len(error["loc"]) > 1:
        return f"word {error['loc'][1]}: {error['msg']}"
    return "a synonym group is a list of at least 2 words: '- [woord, ander woord]'"


def _tree_line(tree: yaml.Node, loc: Loc) -> int:
    """Return the 0-based line of the deepest part of loc that the YAML tree holds."""
    node, line = tree, tree.start_mark.line
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        line, node = child[0].start_mark.line, child[1]
    return line


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """Return (where it starts, the value) of a mapping key or a sequence index."""
    if isinstance(node, yaml.MappingNode):
        return next(((k, v) for k, v in node.value if k.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part], node.value[part]
    return None


def _duplicate_keys(node: yaml.Node) -> Iterator[yaml.Node]:
    # PyYAML keeps the last of two equal keys without a word; an editor should hear of it.
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        keys: set[object] = set()
        for key, value in node.value:
            if key.value in keys:
                yield key
            keys.add(key.value)
            children.append(value)
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    for child in children:
        yield from _duplicate_keys(child)


def main(argv: list[str] | None = None) -> int:
    """Check a toolkit folder, print each problem and a summary; return 1 if there are problems."""
    parser = argparse.ArgumentParser(
        prog="wegwijzer content check", description="Check the toolkit files of Wegwijzer I&D."
    )
    parser.add_argument("dir", nargs="?", type=Path, default=TOOLKIT_DIR, help="toolkit folder")
    root: Path = parser.parse_args(argv).dir
    scan = scan_toolkit(root)
    from content.triage_rules import scan_triage_rules  # it builds on this module

    # Without toolkit items there is no toolkit here to hold triage rules: one problem is enough.
    triage = scan_triage_rules(root, [item.id for item in scan.items]) if scan.items else None
    problems = scan.problems + (triage.problems if triage else [])
    for problem in problems:
        print(problem)  # noqa: T201
    if problems:
        count = len(problems)
        print(f"content has {count} problem{'s' if count != 1 else ''} in {root}")  # noqa: T201
        return 1
    counts = {kind: sum(item.kind == kind for item in scan.items) for kind in MODELS}
    print(  # noqa: T201
        f"content ok: {counts['offer']} offers, {counts['theme']} themes, {counts['faq']} faq,"
        f" {len(scan.synonyms)} synonym groups,"
        f" {len(triage.rules.signals) if triage and triage.rules else 0} safety signals"
    )
    for line in to_confirm_lines(root, scan.items):
        print(line)  # noqa: T201
    return 0


def to_confirm_lines(root: Path, items: Sequence[ToolkitItem]) -> list[str]:
    """The warning that lists every page with a statement the Bureau must still confirm."""
    pages = sorted(f"{FOLDERS[item.kind]}/{item.id}.md" for item in items if item.to_confirm)
    if not pages:
        return []
    header = (
        f"warning: {len(pages)} page{'s' if len(pages) != 1 else ''} in {root} name 'bureau' as"
        " a source; the Bureau must still confirm these (to confirm):"
    )
    return [header, *(f"  - {page}" for page in pages)]


if __name__ == "__main__":
    raise SystemExit(main())
