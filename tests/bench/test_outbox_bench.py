"""The outbox benchmark's figures: the busiest second and the verdict."""

from __future__ import annotations

from bench.outbox import busiest_second, report


def test_the_busiest_second_counts_arrivals_in_any_one_second_window() -> None:
    assert busiest_second([]) == 0
    assert busiest_second([0.0, 0.5, 0.99, 1.0, 1.2]) == 4  # [0.5, 1.5) holds the last four
    assert busiest_second([0.0, 0.6, 1.1, 1.5]) == 3  # [0.6, 1.6)


def test_the_report_says_when_a_goal_is_missed() -> None:
    result = {
        "messages": 10, "people": 2, "limit": 20.0, "achieved": 19.5, "achieved_share": 0.975,
        "busiest_second": 20, "duplicates": 0, "lost": 0, "sent_by_first": 10, "sent_by_second": 0,
    }  # fmt: skip

    assert report(result).rstrip().endswith("every goal met")
    assert report({**result, "duplicates": 1}).rstrip().endswith("NOT every goal met")
