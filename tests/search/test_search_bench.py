"""`wegwijzer search bench`: its figures and its exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.search_bench import main, percentile

EVAL_SET = Path(__file__).with_name("eval_questions.yaml")


def write_set(tmp_path: Path, body: str) -> str:
    path = tmp_path / "set.yaml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_bench_prints_recall_misses_and_timings_and_passes_on_the_eval_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([str(EVAL_SET), "--repeat", "1"]) == 0

    out = capsys.readouterr().out
    assert "recall@3: " in out
    assert "time per question" in out
    assert all(figure in out for figure in ("mean", "p50", "p95", "max"))


def test_bench_fails_when_recall_is_below_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eval_set = write_set(
        tmp_path,
        "questions:\n  - {id: mis, q: 'wethouder', expected: [grapjes-en-opmerkingen]}\n",
    )

    assert main([eval_set, "--repeat", "1"]) == 1
    assert "miss mis: expected grapjes-en-opmerkingen" in capsys.readouterr().out


def test_bench_fails_when_an_off_topic_question_gets_hits(tmp_path: Path) -> None:
    eval_set = write_set(tmp_path, "questions:\n  - {id: weg, q: 'wethouder', expected: []}\n")

    assert main([eval_set, "--repeat", "1"]) == 1


def test_bench_refuses_a_set_that_expects_an_unknown_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eval_set = write_set(
        tmp_path, "questions:\n  - {id: x, q: 'coaching', expected: [bestaat-niet]}\n"
    )

    assert main([eval_set]) == 2
    assert "bestaat-niet" in capsys.readouterr().out


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]

    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 1.0)) == (
        50.0,
        95.0,
        100.0,
    )
    assert percentile([7.0], 0.95) == 7.0


def test_bench_finds_the_repositorys_eval_set_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["--repeat", "1"]) == 0
    assert f"evaluation set: {EVAL_SET.resolve()}" in capsys.readouterr().out


def test_bench_without_an_eval_set_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.yaml"

    assert main([str(missing)]) == 2
    assert capsys.readouterr().out == (
        f"no evaluation set at {missing}: pass the path of one"
        " (the repository's is tests/search/eval_questions.yaml)\n"
    )


def test_the_cli_takes_the_benchs_options_before_the_eval_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main as wegwijzer

    assert wegwijzer(["search", "bench", "--repeat", "1", str(EVAL_SET)]) == 0
    assert "time per question over 77 searches" in capsys.readouterr().out
