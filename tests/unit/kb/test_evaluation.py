from __future__ import annotations

import pytest

from knowledge_base import KnowledgeBase
from knowledge_base.errors import KnowledgeBaseError
from knowledge_base.evaluation import (
    CALIBRATION_SET,
    QUESTIONS_FILE,
    Outcome,
    Question,
    load_questions,
    score,
)


def _outcome(expect, ranked, confident=True):
    return Outcome(Question("q", "en", tuple(expect)), list(ranked), confident, 0.001)


def test_metrics_count_hits_ranks_and_confident_wrong_answers():
    metrics = score(
        [
            _outcome(["a"], ["a", "b", "c"]),  # hit@1
            _outcome(["b"], ["a", "b", "c"], confident=False),  # rank 2, not shown
            _outcome(["c"], ["a", "b", "x"]),  # miss, confidently wrong
            _outcome([], ["a"], confident=True),  # unanswerable but answered: wrong
            _outcome([], ["a"], confident=False),  # unanswerable, refused: right
        ]
    )
    assert metrics.answerable == 3
    assert metrics.hit_at_1 == pytest.approx(1 / 3)
    assert metrics.hit_at_3 == pytest.approx(2 / 3)
    assert metrics.mrr == pytest.approx((1 + 1 / 2 + 0) / 3)
    assert metrics.answered == pytest.approx(2 / 3)
    assert metrics.confident_wrong == pytest.approx(2 / 5)
    assert metrics.unanswerable_refused == pytest.approx(1 / 2)


def test_an_empty_run_scores_zero():
    assert score([]).questions == 0


def test_a_malformed_question_set_is_reported_clearly(tmp_path):
    path = tmp_path / "q.yml"
    path.write_text("questions:\n  - {q: hello, lang: fr}\n", "utf-8")
    with pytest.raises(KnowledgeBaseError, match="entry 0"):
        load_questions(path)
    with pytest.raises(KnowledgeBaseError, match="cannot read"):
        load_questions(tmp_path / "missing.yml")


def test_the_held_out_set_is_large_bilingual_and_points_at_real_articles(kb: KnowledgeBase):
    questions = load_questions(QUESTIONS_FILE)
    assert len(questions) >= 100
    assert sum(q.language == "zh" for q in questions) >= 50
    assert sum(q.language == "en" for q in questions) >= 50
    topics = {(a.topic, a.language) for a in kb.store.all()}
    for q in questions:
        for topic in q.expect:
            assert (topic, q.language) in topics, (q.text, topic)


def test_held_out_questions_are_not_copied_into_articles_or_calibration(kb: KnowledgeBase):
    held_out = {q.text.strip().lower() for q in load_questions(QUESTIONS_FILE)}
    calibration = {q.text.strip().lower() for q in load_questions(CALIBRATION_SET)}
    in_articles = {
        text.strip().lower() for a in kb.store.all() for text in (a.title, *a.questions)
    }
    assert not held_out & calibration
    assert not held_out & in_articles


def test_every_language_has_at_least_25_articles_and_every_topic_both(kb: KnowledgeBase):
    assert len(kb.store.all("zh")) >= 25
    assert len(kb.store.all("en")) >= 25
    by_topic: dict[str, set[str]] = {}
    for article in kb.store.all():
        by_topic.setdefault(article.topic, set()).add(article.language)
    assert all(langs == {"zh", "en"} for langs in by_topic.values())
    assert kb.store.errors == []
