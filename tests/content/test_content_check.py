"""The checker reports each kind of defect with the file and line an editor must fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.check import Problem, check_dir, main
from tests.content.demo_toolkit import Toolkit

OFFER = "offers/demo-offer.md"
THEME = "themes/demo-theme.md"
FAQ = "faq/demo-faq.md"


def only_problem(kit: Toolkit) -> Problem:
    problems = check_dir(kit.root)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def assert_problem(kit: Toolkit, relative: str, line: int, words: str) -> None:
    problem = only_problem(kit)
    assert (problem.path, problem.line) == (kit.path(relative), line), str(problem)
    assert words in problem.message


def test_valid_toolkit_has_no_problems(toolkit: Toolkit) -> None:
    assert check_dir(toolkit.root) == []


def test_problem_reads_as_file_colon_line_colon_message() -> None:
    problem = Problem(Path("offers/x.md"), 7, "unknown theme 'y'")
    assert str(problem) == "offers/x.md:7: unknown theme 'y'"


def test_yaml_error_points_at_the_broken_line(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "kind: offer", "kind: offer: yes")
    assert_problem(toolkit, OFFER, 3, "YAML error")


def test_missing_front_matter_fence_is_reported_on_line_one(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "---\n", "")
    assert_problem(toolkit, THEME, 1, "start the file with a line '---'")


def test_unclosed_front_matter_is_reported(toolkit: Toolkit) -> None:
    text = toolkit.path(THEME).read_text(encoding="utf-8").replace("---\nOver", "Over")
    toolkit.write(THEME, text)
    assert_problem(toolkit, THEME, 1, "close the front matter")


def test_missing_field_is_reported_at_the_start_of_the_front_matter(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "effort: {nl: Een dagdeel., en: Half a day.}\n", "")
    assert_problem(toolkit, OFFER, 2, "missing field 'effort'")


def test_missing_translation_is_reported_at_its_field(toolkit: Toolkit) -> None:
    toolkit.replace(FAQ, "title: {nl: Een vraag, en: A question}", "title: {nl: Een vraag}")
    assert_problem(toolkit, FAQ, toolkit.line_of(FAQ, "title:"), "missing field 'title.en'")


def test_unknown_field_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "related:", "colour: blue\nrelated:")
    assert_problem(toolkit, THEME, toolkit.line_of(THEME, "colour:"), "unknown field 'colour'")


def test_unknown_role_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.replace(
        OFFER, "roles: [teammanager, afdelingsmanager]", "roles:\n  - teammanager\n  - baas"
    )
    assert_problem(toolkit, OFFER, toolkit.line_of(OFFER, "- baas"), "roles.1")


def test_field_nested_in_a_list_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "    instead: demo-faq", "    instead: demo-faq\n    why: because")
    assert_problem(toolkit, OFFER, toolkit.line_of(OFFER, "why:"), "unknown field 'not_for.0.why'")


def test_duplicate_field_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "related:", "kind: theme\nrelated:")
    assert_problem(toolkit, THEME, 6, "field 'kind' appears more than once")


def test_unknown_theme_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.replace(FAQ, "themes: [demo-theme]", "themes:\n  - demo-theme\n  - doorstroom")
    assert_problem(toolkit, FAQ, toolkit.line_of(FAQ, "- doorstroom"), "unknown theme 'doorstroom'")


def test_theme_id_of_an_offer_is_not_a_theme(toolkit: Toolkit) -> None:
    toolkit.replace(FAQ, "themes: [demo-theme]", "themes: [demo-offer]")
    assert_problem(toolkit, FAQ, toolkit.line_of(FAQ, "themes:"), "unknown theme 'demo-offer'")


def test_duplicate_id_across_kinds_is_reported(toolkit: Toolkit) -> None:
    faq = toolkit.path(FAQ).read_text(encoding="utf-8").replace("id: demo-faq", "id: demo-theme")
    toolkit.write("faq/demo-theme.md", faq.replace("demo-offer, demo-theme", "demo-offer"))
    assert_problem(toolkit, THEME, 2, "duplicate id 'demo-theme' (also faq/demo-theme.md)")


def test_broken_related_link_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "related: [demo-offer]", "related: [demo-offer, nergens]")
    assert_problem(toolkit, THEME, toolkit.line_of(THEME, "related:"), "no item with id 'nergens'")


def test_broken_instead_link_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "instead: demo-faq", "instead: directeurenprogramma")
    line = toolkit.line_of(OFFER, "instead:")
    assert_problem(toolkit, OFFER, line, "no item with id 'directeurenprogramma'")


def test_link_to_an_invalid_item_is_not_reported_as_broken(toolkit: Toolkit) -> None:
    toolkit.replace(FAQ, "summary: {nl: Het korte antwoord., en: The short answer.}\n", "")
    assert_problem(toolkit, FAQ, 2, "missing field 'summary'")


def test_too_long_summary_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "Kort over het aanbod.", "lang" * 75)
    line = toolkit.line_of(OFFER, "summary:")
    assert_problem(toolkit, OFFER, line, "text too long for a card (nl: 300 > 240)")


def test_too_long_exclusion_reason_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "Directors have their own programme.", "long " * 90)
    assert_problem(
        toolkit, OFFER, toolkit.line_of(OFFER, "reason:"), "text too long for a card (en"
    )


def test_too_long_body_is_reported_at_the_body(toolkit: Toolkit) -> None:
    toolkit.replace(FAQ, "Het antwoord.", "Een lang antwoord. " * 200)
    assert_problem(
        toolkit, FAQ, toolkit.line_of(FAQ, "Een lang antwoord"), "text too long for a card"
    )


def test_missing_english_part_is_reported_at_the_body(toolkit: Toolkit) -> None:
    toolkit.replace(FAQ, "<!-- en -->\nThe answer.\n", "")
    assert_problem(toolkit, FAQ, toolkit.line_of(FAQ, "Het antwoord."), "missing English part")


def test_empty_english_part_is_reported_at_the_marker(toolkit: Toolkit) -> None:
    toolkit.replace(FAQ, "The answer.\n", "\n")
    assert_problem(toolkit, FAQ, toolkit.line_of(FAQ, "<!-- en -->"), "English part")


def test_missing_dutch_text_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "Over het thema.\n", "")
    assert_problem(toolkit, THEME, toolkit.line_of(THEME, "<!-- en -->"), "missing Dutch text")


def test_second_english_marker_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "About the theme.", "About.\n<!-- en -->\nAgain.")
    assert_problem(toolkit, THEME, 12, "appears more than once")


def test_file_name_that_differs_from_id_is_reported_at_the_id(toolkit: Toolkit) -> None:
    toolkit.path(FAQ).rename(toolkit.path("faq/vraag.md"))
    assert_problem(toolkit, "faq/vraag.md", 2, "name it demo-faq.md")


def test_item_in_the_wrong_folder_is_reported_at_its_kind(toolkit: Toolkit) -> None:
    toolkit.path(THEME).rename(toolkit.path("offers/demo-theme.md"))
    assert_problem(toolkit, "offers/demo-theme.md", 3, "a theme belongs in themes/, not in offers/")


def test_unknown_kind_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "kind: theme", "kind: thema")
    assert_problem(toolkit, THEME, 3, "unknown kind 'thema'")


def test_markdown_outside_the_kind_folders_is_reported(toolkit: Toolkit) -> None:
    toolkit.write("nieuw.md", "---\nid: nieuw\n---\n")
    assert_problem(toolkit, "nieuw.md", 1, "put this file in offers/, themes/ or faq/")


def test_other_file_in_a_kind_folder_is_reported(toolkit: Toolkit) -> None:
    toolkit.write("faq/notities.txt", "ideeën")
    assert_problem(toolkit, "faq/notities.txt", 1, "only .md files")


def test_notes_for_editors_beside_the_folders_are_allowed(toolkit: Toolkit) -> None:
    toolkit.write("LEESMIJ.md", "# Uitleg\n")
    toolkit.write(".git/HEAD", "ref")
    assert check_dir(toolkit.root) == []


def test_link_access_without_link_setting_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "access: aanmelden", "access: link")
    assert_problem(toolkit, OFFER, toolkit.line_of(OFFER, "access:"), "needs a link_setting")


def test_link_setting_that_looks_like_a_url_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "access: aanmelden", "access: link\nlink_setting: https://example.org")
    assert_problem(toolkit, OFFER, toolkit.line_of(OFFER, "link_setting:"), "setting name")


def test_role_both_allowed_and_excluded_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "- role: directeur", "- role: teammanager")
    assert_problem(toolkit, OFFER, toolkit.line_of(OFFER, "- role:"), "in both roles and not_for")


def test_missing_synonyms_file_is_reported(toolkit: Toolkit) -> None:
    toolkit.path("synoniemen.yaml").unlink()
    assert_problem(toolkit, "synoniemen.yaml", 1, "missing synoniemen.yaml")


def test_synonym_group_of_one_word_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.write("synoniemen.yaml", "- [gesprek, dialoog]\n- [weerstand]\n")
    assert_problem(toolkit, "synoniemen.yaml", 2, "at least 2 words")


def test_word_in_two_synonym_groups_is_reported_at_the_second(toolkit: Toolkit) -> None:
    toolkit.write("synoniemen.yaml", "- [gesprek, dialoog]\n- [praten, Gesprek]\n")
    assert_problem(toolkit, "synoniemen.yaml", 2, "'Gesprek' is already in the group on line 1")


def test_missing_toolkit_folder_is_reported(tmp_path: Path) -> None:
    assert [p.message for p in check_dir(tmp_path / "nergens")] == ["toolkit folder not found"]


def test_every_problem_in_every_file_is_reported_sorted(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER, "themes: [demo-theme]", "themes: [nope]")
    toolkit.replace(FAQ, "related: [demo-offer, demo-theme]", "related: [weg]")
    toolkit.replace(FAQ, "<!-- en -->\nThe answer.\n", "")
    problems = check_dir(toolkit.root)
    assert [(p.path.name, p.line) for p in problems] == [
        ("demo-faq.md", 7),
        ("demo-faq.md", 10),
        ("demo-offer.md", 7),
    ]


def test_main_prints_summary_and_returns_0_for_good_content(
    toolkit: Toolkit, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(toolkit.root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("content ok: 1 offers, 1 themes, 1 faq, 2 synonym groups, 1 safety signals")


def test_main_lists_the_bureau_pages_as_one_warning_to_confirm(
    toolkit: Toolkit, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(toolkit.root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("warning: 2 pages in ")
    assert "to confirm" in lines[1]
    assert lines[2:] == ["  - faq/demo-faq.md", "  - themes/demo-theme.md"]


def test_main_without_bureau_pages_prints_no_warning(
    toolkit: Toolkit, capsys: pytest.CaptureFixture[str]
) -> None:
    toolkit.replace(THEME, "sources: [bureau]", "sources: [002_f1cc07efbdaabfc6.txt]")
    toolkit.replace(
        FAQ, "sources: [000_1ca3b20ec217f7f0.txt, bureau]", "sources: [001_303baa39847a41f3.txt]"
    )
    assert main([str(toolkit.root)]) == 0
    assert "warning" not in capsys.readouterr().out


def test_page_without_sources_fails_the_check(
    toolkit: Toolkit, capsys: pytest.CaptureFixture[str]
) -> None:
    toolkit.replace(THEME, "sources: [bureau]\n", "")
    assert main([str(toolkit.root)]) == 1
    out = capsys.readouterr().out
    assert f"{toolkit.path(THEME)}:2: sources: name seed files" in out


def test_empty_sources_fail_the_check(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "sources: [bureau]", "sources: []")
    assert_problem(toolkit, THEME, 7, "sources: name seed files")


def test_source_that_is_not_a_seed_name_is_reported_at_its_line(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "sources: [bureau]", "sources: [interview met Jan]")
    assert_problem(toolkit, THEME, 7, "sources: name seed files")


def test_source_naming_a_missing_seed_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "sources: [bureau]", "sources: [009_0000000000000000.txt]")
    assert_problem(toolkit, THEME, 7, "sources: no seed document '009_0000000000000000.txt'")


def test_parent_of_the_toolkit_folder_says_which_folder_it_expects(
    toolkit: Toolkit, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(toolkit.root.parent)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"{toolkit.root.parent}:1: this is not a toolkit folder: it has no offers/, themes/ or"
        f" faq/; did you mean {toolkit.root}?"
    )
    assert len(lines) == 2


def test_main_prints_each_problem_and_returns_1(
    toolkit: Toolkit, capsys: pytest.CaptureFixture[str]
) -> None:
    toolkit.replace(OFFER, "themes: [demo-theme]", "themes: [nope]")
    toolkit.replace(THEME, "related: [demo-offer]", "related: [weg]")
    assert main([str(toolkit.root)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{toolkit.path(OFFER)}:7: unknown theme 'nope'",
        f"{toolkit.path(THEME)}:6: broken link: no item with id 'weg'",
        f"content has 2 problems in {toolkit.root}",
    ]


def test_main_without_arguments_checks_the_built_in_toolkit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out.startswith("content ok: 8 offers, 9 themes, ")


def test_kind_that_is_not_a_word_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(THEME, "kind: theme", "kind: [theme]")
    assert_problem(toolkit, THEME, 3, "unknown kind ['theme']")
