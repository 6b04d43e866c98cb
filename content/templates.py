"""Message texts and Adaptive Card templates, in Dutch and English, compiled once."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from content.schema import LANGS, Lang
from content.verbs import VERB_FIELD, Verb

CONTENT_DIR = Path(__file__).parent
MESSAGES_DIR = CONTENT_DIR / "messages"
CARDS_DIR = CONTENT_DIR / "cards"
COMMANDS_FILE = CONTENT_DIR / "commands.yaml"
# Rendered cards and texts kept per (name, language, values). They hold content, never what a
# user typed (search hits carry the content words that matched, not the question): a template
# that shows typed text (it uses the `literal` filter) is rendered each time, never kept.
RENDER_CACHE_SIZE = 2048


# PyYAML's C loader when it was built with libyaml, else the pure-Python one; both are safe.
FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# What Teams reads as Markdown in a TextBlock, a FactSet value and a message's text: these
# characters anywhere (emphasis, code, links and images, HTML and <at> mentions, strikethrough,
# tables), an entity such as &amp;, and at the start of a line a heading, a quote, a list item or a
# heading's underline. A backslash before any of them shows the character itself (CommonMark).
_MARKDOWN_ANYWHERE = re.compile(r"[\\`*_\[\]<|~]|&(?=#?\w+;)")
_MARKDOWN_LINE_START = re.compile(r"^([ \t]*)(?:([#>+=-])|(\d+)([.)]))", re.MULTILINE)
_SHOWS_TYPED_TEXT = re.compile(r"\|\s*literal\b|map\(\s*[\"']literal")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# What Teams acts on before (or besides) Markdown: an Adaptive Card text function
# (`{{DATE(...)}}`, `{{TIME(...)}}`, shown as a date or time), and a bare address it may turn into
# a link (`https://...`, a protocol-relative `//host`, `www.host`). A WORD JOINER (U+2060: zero
# width, no line break, silent in screen readers) inside `{{`, `//` and `www.` breaks each apart
# without a visible change, whatever reads the text on a client; a backslash escape works only
# where a Markdown parser honours it before the functions or a link finder look.
INVISIBLE_BREAK = "\u2060"
_ACTED_ON = re.compile(r"(?<=\{)(?=\{)|(?<=/)(?=/)|(?<=www)(?=\.)", re.IGNORECASE)


def literal(text: object) -> str:
    """`text` as someone typed it, for a card or message: no Markdown in it takes effect.

    Apply it (the `literal` filter in templates) to every value a person typed (a request's text,
    replies, names, a function or directorate), never to content: ordinary words and punctuation
    stay as they are, only what Teams would format is escaped, and what it would turn into a date,
    a time or a link is broken apart invisibly.
    """
    broken = _ACTED_ON.sub(INVISIBLE_BREAK, str(text))
    escaped = _MARKDOWN_ANYWHERE.sub(lambda m: "\\" + m.group(0), broken)
    return _MARKDOWN_LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark, number, dot = match.groups()
    return f"{indent}\\{mark}" if mark else f"{indent}{number}\\{dot}"


def as_plain_text(markdown: str) -> str:
    """What a reader sees of escaped text, for places that show card text without Markdown."""
    return _BACKSLASH_ESCAPE.sub(r"\1", markdown).replace(INVISIBLE_BREAK, "")


class TemplateError(ValueError):
    """A message or card template that cannot be used; raised at load, never in a chat."""


def pick_lang(locale: str | None) -> Lang:
    """Dutch unless Teams says the user reads English."""
    return "en" if (locale or "").lower().startswith("en") else "nl"


def _environment(directory: Path) -> Environment:
    # Card templates produce JSON: every value goes through `tojson`, so no text can break it.
    environment = Environment(
        loader=FileSystemLoader(str(directory)),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    # Verbs come from content/verbs.py, never spelled out in a template.
    environment.globals.update(verbs=Verb, verb_field=VERB_FIELD)
    environment.filters["literal"] = literal
    return environment


@dataclass(frozen=True)
class Templates:
    """All texts and cards; `text` and `card` are the only ways user-facing words leave content/."""

    messages: Mapping[Lang, Mapping[str, Template]]
    cards: Mapping[str, Template]
    commands: Mapping[str, frozenset[str]]
    # Cards and message keys that show what someone typed: never kept in the render caches.
    private: frozenset[str] = frozenset()
    _rendered: OrderedDict[tuple[str, str, Any], str] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )
    _texts: OrderedDict[tuple[str, str, Any], str] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )

    def command(self, text: str | None) -> str | None:
        """Name the command ('menu', 'stop') a typed text is, or None."""
        word = (text or "").strip().strip(".!").strip().lower()
        for name, words in self.commands.items():
            if word in words:
                return name
        return None

    def text(self, key: str, lang: Lang, **values: Any) -> str:
        return self._text(key, lang, values, keep=True)

    def _text(self, key: str, lang: Lang, values: Mapping[str, Any], *, keep: bool) -> str:
        """The text; kept in the cache only when `keep` and it shows nothing someone typed."""
        try:
            template = self.messages[lang][key]
        except KeyError:
            raise TemplateError(f"unknown message {key!r}") from None
        # Like cards, a text is a pure function of its key, language and values: render once.
        # The type is part of the key: 1, 1.0 and True are equal in a tuple, not in a text.
        if not values:  # most texts: labels and buttons
            return _remember(self._texts, (key, lang, ()), lambda: template.render().strip())
        if key in self.private or not keep:
            return template.render(**values).strip()
        cache_key = (key, lang, tuple((k, type(v), v) for k, v in sorted(values.items())))
        try:
            hash(cache_key)
        except TypeError:  # values that are not plain data: render every time
            return template.render(**values).strip()
        return _remember(self._texts, cache_key, lambda: template.render(**values).strip())

    def card(self, name: str, lang: Lang, **values: Any) -> dict[str, Any]:
        try:
            template = self.cards[name]
        except KeyError:
            raise TemplateError(f"unknown card {name!r}") from None
        # A card is a pure function of its name, language and values: render each once. A fresh
        # dict comes out of every call, so no caller can change another's card.
        if name in self.private:  # its texts get its values too: keep none of them either
            texts = _Texts(self, lang, values, keep=False)
            return _parse(template.render(t=texts, lang=lang, **values))
        try:
            key = (name, lang, orjson.dumps(values, option=orjson.OPT_SORT_KEYS))
        except TypeError:  # values that are not plain data: render every time
            return _parse(template.render(t=_Texts(self, lang, values), lang=lang, **values))

        def render() -> str:
            rendered = template.render(t=_Texts(self, lang, values), lang=lang, **values)
            _parse(rendered)  # a broken card must fail here, not be cached
            return rendered

        return _parse(_remember(self._rendered, key, render))


def _remember(
    cache: OrderedDict[tuple[str, str, Any], str],
    key: tuple[str, str, Any],
    render: Callable[[], str],
) -> str:
    """The cached rendering for `key`, rendering and keeping it (least recently used out)."""
    rendered = cache.get(key)
    if rendered is None:
        rendered = render()
        cache[key] = rendered
        if len(cache) > RENDER_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return rendered


def _parse(rendered: str) -> dict[str, Any]:
    card: dict[str, Any] = orjson.loads(rendered)
    return card


class _Texts:
    """Lets a card template say `t.welcome_title` and get the text in the card's language."""

    def __init__(
        self, templates: Templates, lang: Lang, values: Mapping[str, Any], *, keep: bool = True
    ) -> None:
        self._templates = templates
        self._lang = lang
        self._values = values
        self._keep = keep  # False for a card that shows typed text: its values are not kept

    def __getattr__(self, key: str) -> str:
        # Jinja probes objects for attributes of its own: an unknown name must be an
        # AttributeError, so that it becomes a (strict) undefined and fails loudly at render.
        if key not in self._templates.messages[self._lang]:
            raise AttributeError(key)
        return self._templates._text(key, self._lang, self._values, keep=self._keep)

    def __call__(self, key: str, **values: Any) -> str:
        merged = {**self._values, **values}
        return self._templates._text(key, self._lang, merged, keep=self._keep)


def load_templates(
    messages_dir: Path = MESSAGES_DIR,
    cards_dir: Path = CARDS_DIR,
    commands_file: Path = COMMANDS_FILE,
) -> Templates:
    """Load and compile every message and card; fail loudly on a missing or broken one."""
    text_env = Environment(undefined=StrictUndefined, autoescape=False)
    text_env.filters["literal"] = literal
    messages: dict[Lang, dict[str, Template]] = {}
    private: set[str] = set()
    for lang in LANGS:
        path = messages_dir / f"{lang}.yaml"
        raw = _read_yaml(path)
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise TemplateError(f"{path}: every message must be a key with a text")
        messages[lang] = {key: text_env.from_string(value) for key, value in raw.items()}
        private.update(key for key, value in raw.items() if _SHOWS_TYPED_TEXT.search(value))
    keys = {lang: set(found) for lang, found in messages.items()}
    for lang in LANGS:
        missing = keys["nl"] - keys[lang] if lang != "nl" else keys["en"] - keys["nl"]
        if missing:
            raise TemplateError(f"{messages_dir / (lang + '.yaml')}: missing {sorted(missing)}")
    card_env = _environment(cards_dir)
    cards = {
        path.name.removesuffix(".json.j2"): card_env.get_template(path.name)
        for path in sorted(cards_dir.glob("*.json.j2"))
    }
    private.update(
        path.name.removesuffix(".json.j2")
        for path in cards_dir.glob("*.json.j2")
        if _SHOWS_TYPED_TEXT.search(path.read_text(encoding="utf-8"))
    )
    return Templates(
        messages=messages,
        cards=cards,
        commands=_load_commands(commands_file),
        private=frozenset(private),
    )


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER) or {}
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"{path}: {error}") from None


def _load_commands(path: Path) -> dict[str, frozenset[str]]:
    raw = _read_yaml(path)
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise TemplateError(f"{path}: every command must be a name with a list of words")
    return {name: frozenset(str(w).lower() for w in words) for name, words in raw.items()}
