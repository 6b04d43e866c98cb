"""Show an Adaptive Card as plain text, with its buttons and inputs numbered, for the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from content.templates import as_plain_text


@dataclass
class Input:
    id: str
    label: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # (title, value)
    multi: bool = False
    value: str = ""  # what the card fills in already
    show_card: str | None = None  # the Action.ShowCard it is in, if any


@dataclass
class Button:
    title: str
    kind: str  # Action.Submit, Action.Execute, Action.OpenUrl, ...
    data: dict[str, Any] = field(default_factory=dict)
    verb: str | None = None
    url: str | None = None
    sends_inputs: bool = True
    show_card: str | None = None  # the Action.ShowCard it is in: it sends that card's inputs

    def sends(self, field_: Input) -> bool:
        """Whether pressing this button sends that input (the card's own, or its show card's)."""
        return self.sends_inputs and field_.show_card in (None, self.show_card)


@dataclass
class CardText:
    lines: list[str] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)


def card_text(card: dict[str, Any]) -> CardText:
    """Flatten a card's texts, facts, inputs and actions in reading order."""
    out = CardText()
    _elements(card.get("body", []), out)
    _actions(card.get("actions", []), out)
    return out


def _elements(elements: list[dict[str, Any]], out: CardText, show_card: str | None = None) -> None:
    for element in elements:
        kind = element.get("type")
        if kind == "TextBlock":
            out.lines.append(as_plain_text(str(element.get("text", ""))))
        elif kind == "RichTextBlock":
            out.lines.append("".join(str(r.get("text", "")) for r in element.get("inlines", [])))
        elif kind == "FactSet":
            out.lines.extend(
                f"  {f.get('title')}: {as_plain_text(str(f.get('value')))}"
                for f in element["facts"]
            )
        elif kind == "Image":
            out.lines.append(f"[afbeelding: {element.get('altText', '')}]")
        elif kind in ("Container", "Column"):
            _elements(element.get("items", []), out, show_card)
        elif kind == "Table":
            for row in element.get("rows", []):
                texts = []
                for cell in row.get("cells", []):
                    inner = CardText()
                    _elements(cell.get("items", []), inner)
                    texts.append(" ".join(inner.lines))
                out.lines.append(" | ".join(texts))
        elif kind == "ColumnSet":
            for column in element.get("columns", []):
                _elements(column.get("items", []), out, show_card)
        elif kind == "ActionSet":
            _actions(element.get("actions", []), out, show_card)
        elif isinstance(kind, str) and kind.startswith("Input."):
            _input(element, out, show_card)


def _input(element: dict[str, Any], out: CardText, show_card: str | None = None) -> None:
    label = str(element.get("label") or element.get("placeholder") or element["id"])
    choices = [(str(c["title"]), str(c["value"])) for c in element.get("choices", [])]
    if element.get("type") == "Input.Toggle":
        choices = [
            ("ja", str(element.get("valueOn", "true"))),
            ("nee", str(element.get("valueOff", "false"))),
        ]
    value = element.get("value")
    out.inputs.append(
        Input(
            id=element["id"],
            label=label,
            choices=choices,
            multi=bool(element.get("isMultiSelect")),
            value="" if value is None else str(value),
            show_card=show_card,
        )
    )
    out.lines.append(f"  <invoerveld: {label}>")


def _actions(actions: list[dict[str, Any]], out: CardText, show_card: str | None = None) -> None:
    for action in actions:
        kind = str(action.get("type"))
        if kind == "Action.ShowCard":
            # Its inputs and buttons, shown in line: each of its buttons sends its inputs.
            inner = str(action.get("title", ""))
            _elements(action.get("card", {}).get("body", []), out, inner)
            _actions(action.get("card", {}).get("actions", []), out, inner)
            continue
        out.buttons.append(
            Button(
                title=str(action.get("title", "")),
                kind=kind,
                data=dict(action.get("data") or {}),
                verb=action.get("verb"),
                url=action.get("url"),
                sends_inputs=str(action.get("associatedInputs", "auto")).lower() != "none",
                show_card=show_card,
            )
        )
