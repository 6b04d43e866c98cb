"""Cached renders are the renders: the cache never mixes up values that only look equal."""

from __future__ import annotations

from pathlib import Path

from content.templates import load_templates


def test_equal_looking_values_of_other_types_render_apart(tmp_path: Path) -> None:
    messages = tmp_path / "messages"
    messages.mkdir()
    for lang in ("nl", "en"):
        (messages / f"{lang}.yaml").write_text("value: 'waarde {{ v }}'\n", encoding="utf-8")
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "c.json.j2").write_text('{"v": {{ v|tojson }}}', encoding="utf-8")
    commands = tmp_path / "commands.yaml"
    commands.write_text("menu: [menu]\n", encoding="utf-8")
    templates = load_templates(messages, cards, commands)

    assert templates.text("value", "nl", v=1) == "waarde 1"
    assert templates.text("value", "nl", v=True) == "waarde True"
    assert templates.text("value", "nl", v=1.0) == "waarde 1.0"
    assert templates.text("value", "nl", v=1) == "waarde 1"
    assert templates.card("c", "nl", v=[1]) == {"v": [1]}
    first = templates.card("c", "nl", v={"a": 1})
    first["v"]["a"] = 2  # a caller changing its card does not change the next caller's
    assert templates.card("c", "nl", v={"a": 1}) == {"v": {"a": 1}}


def test_what_someone_typed_is_never_kept_in_the_render_caches() -> None:
    templates = load_templates()
    shows_typed = {
        "help_request_channel",
        "help_request_notice",
        "help_request_thread_answer",
        "my_help_request",
        "session_bureau_lists",
        "help_request_thread_reply",
        "bureau_lists_waiting_line",
    }
    assert shows_typed <= templates.private
    assert "menu" not in templates.private and "welcome_title" not in templates.private

    card = templates.card("help_request_thread_answer", "nl", request=1, text="Geheim")
    said = templates.text("help_request_thread_reply", "nl", name="Fatima", text="Geheim")

    assert "Geheim" in str(card) and "Geheim" in said
    kept = [*templates._rendered.items(), *templates._texts.items()]
    assert "Geheim" not in repr(kept)
