"""`wegwijzer search bench`: how well and how fast the search answers the evaluation set.

Prints recall@3 over the on-topic questions, the misses, the off-topic questions that did get
hits, and the time per question. Exits 1 when recall@3 is below the target or an off-topic
question gets a hit, 2 when the evaluation set names an item the toolkit does not have.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from content.loader import TOOLKIT_DIR, Catalog, load_catalog
from content.search import SearchIndex

# The labelled questions live with the search's tests, in the repository (not in the package).
DEFAULT_EVAL_SET = Path(__file__).resolve().parents[1] / "tests" / "search" / "eval_questions.yaml"
TOP = 3
TARGET_RECALL = 0.9
DEFAULT_REPEAT = 20


class EvalQuestion(BaseModel):
    """A question and the items of which one must be in the top 3; none expected: off-topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    q: str = Field(min_length=1)
    expected: list[str]

    @property
    def off_topic(self) -> bool:
        return not self.expected


class _EvalFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[EvalQuestion] = Field(min_length=1)


@dataclass(frozen=True)
class Outcome:
    question: EvalQuestion
    found: list[str]  # ids of the hits, best first

    @property
    def passed(self) -> bool:
        if self.question.off_topic:
            return not self.found
        return any(item_id in self.found for item_id in self.question.expected)


@dataclass(frozen=True)
class Evaluation:
    outcomes: list[Outcome]

    @property
    def on_topic(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.question.off_topic]

    @property
    def off_topic(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.off_topic]

    @property
    def recall(self) -> float:
        """Return the share of on-topic questions with an expected item in the top 3."""
        on_topic = self.on_topic
        return sum(o.passed for o in on_topic) / len(on_topic) if on_topic else 1.0

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.on_topic if not o.passed]

    @property
    def off_topic_hits(self) -> list[Outcome]:
        return [o for o in self.off_topic if not o.passed]


def load_eval_set(path: Path) -> list[EvalQuestion]:
    """Read and validate an evaluation set file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return _EvalFile.model_validate(data).questions


def unknown_ids(catalog: Catalog, questions: list[EvalQuestion]) -> list[str]:
    """Return expected ids that are not in the catalog: a typo there would count as a miss."""
    known = {item.id for item in catalog.items()}
    return sorted({i for q in questions for i in q.expected if i not in known})


def evaluate(index: SearchIndex, questions: list[EvalQuestion]) -> Evaluation:
    """Ask every question once and record the top 3."""
    return Evaluation(
        [Outcome(q, [hit.item.id for hit in index.search(q.q, limit=TOP)]) for q in questions]
    )


def time_questions(index: SearchIndex, questions: list[EvalQuestion], repeat: int) -> list[float]:
    """Return the milliseconds each search took, over `repeat` runs of the whole set."""
    timings: list[float] = []
    for _ in range(repeat):
        for question in questions:
            start = time.perf_counter()
            index.search(question.q, limit=TOP)
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (share between 0 and 1) of non-empty values."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _report(evaluation: Evaluation, timings: list[float], build_ms: float, path: Path) -> None:
    on_topic, off_topic = evaluation.on_topic, evaluation.off_topic
    passed = len(on_topic) - len(evaluation.misses)
    _say(f"evaluation set: {path} ({len(on_topic)} questions, {len(off_topic)} off-topic)")
    _say(
        f"recall@{TOP}: {evaluation.recall:.3f} ({passed}/{len(on_topic)}, target {TARGET_RECALL})"
    )
    quiet = len(off_topic) - len(evaluation.off_topic_hits)
    _say(f"off-topic without hits: {quiet}/{len(off_topic)}")
    for outcome in evaluation.misses:
        _say(
            f"  miss {outcome.question.id}: expected {', '.join(outcome.question.expected)};"
            f" got {', '.join(outcome.found) or 'nothing'}"
        )
    for outcome in evaluation.off_topic_hits:
        _say(f"  off-topic hit {outcome.question.id}: got {', '.join(outcome.found)}")
    _say(
        f"time per question over {len(timings)} searches (ms): "
        f"mean {sum(timings) / len(timings):.3f}  p50 {percentile(timings, 0.5):.3f}  "
        f"p95 {percentile(timings, 0.95):.3f}  max {max(timings):.3f}"
    )
    _say(f"index build (ms): {build_ms:.1f}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's own arguments, on its parser or on the `wegwijzer search bench` command."""
    parser.add_argument(
        "eval_set",
        nargs="?",
        type=Path,
        default=DEFAULT_EVAL_SET,
        help="the labelled questions (default: the repository's)",
    )
    parser.add_argument("--toolkit", type=Path, default=TOOLKIT_DIR, help="toolkit folder")
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, help="timed runs over the whole set"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation set against the real toolkit and print the figures."""
    parser = argparse.ArgumentParser(
        prog="wegwijzer search bench", description="Measure the toolkit search."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Measure with the parsed arguments of `add_arguments`."""
    if not args.eval_set.is_file():
        _say(
            f"no evaluation set at {args.eval_set}: pass the path of one "
            "(the repository's is tests/search/eval_questions.yaml)"
        )
        return 2
    catalog = load_catalog(args.toolkit)
    questions = load_eval_set(args.eval_set)
    if unknown := unknown_ids(catalog, questions):
        _say(f"the evaluation set expects items the toolkit does not have: {', '.join(unknown)}")
        return 2

    start = time.perf_counter()
    index = SearchIndex.build(catalog)
    build_ms = (time.perf_counter() - start) * 1000
    evaluation = evaluate(index, questions)
    timings = time_questions(index, questions, max(args.repeat, 1))
    _report(evaluation, timings, build_ms, args.eval_set)
    return 0 if evaluation.recall >= TARGET_RECALL and not evaluation.off_topic_hits else 1


if __name__ == "__main__":
    raise SystemExit(main())
