from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, select

from kamidesk.db import alembic_config, make_engine
from knowledge_base import FeedbackError, KnowledgeBase, KnowledgeBaseService
from knowledge_base.feedback import build_report, log_question, record_feedback
from knowledge_base.models import QueryLog
from knowledge_base.reporting import report_markdown


def _ask(sessions, question, *, answered=False, language="en", article=None):
    return log_question(
        session_factory=sessions,
        question=question,
        language=language,
        answered=answered,
        top_article_id=article,
        confidence=0.9 if answered else 0.1,
    )


def _vote(sessions, article_id, helpful, comment=None):
    return record_feedback(
        session_factory=sessions,
        article_id=article_id,
        language="en",
        helpful=helpful,
        comment=comment,
    )


def test_migrations_create_and_drop_the_knowledge_base_tables(kb_db_url):
    engine = make_engine(kb_db_url)
    try:
        assert {"kb_feedback", "kb_query_log"} <= set(inspect(engine).get_table_names())
        command.downgrade(alembic_config(kb_db_url), "knowledge_base@base")
        assert not {"kb_feedback", "kb_query_log"} & set(inspect(engine).get_table_names())
        command.upgrade(alembic_config(kb_db_url), "heads")
        assert {"kb_feedback", "kb_query_log"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_unanswered_questions_are_grouped_and_the_most_frequent_come_first(kb_sessions):
    for _ in range(3):
        _ask(kb_sessions, "Do you sell Netflix gift cards?")
    _ask(kb_sessions, "do you sell netflix gift cards")  # same question, other spelling
    _ask(kb_sessions, "Can I pay with Apple Pay?")
    _ask(kb_sessions, "how do I redeem steam", answered=True, article="redeem-steam-en")
    report = build_report(session_factory=kb_sessions)
    assert report.questions == 6
    assert report.answered == 1
    assert [(u.count, u.language) for u in report.unanswered] == [(4, "en"), (1, "en")]
    assert "netflix" in report.unanswered[0].question.lower()
    assert report.unanswered[0].last_asked.tzinfo is not None


def test_the_report_only_covers_the_requested_period(kb_sessions):
    _ask(kb_sessions, "old question")
    future = datetime.now(UTC) + timedelta(minutes=5)
    report = build_report(session_factory=kb_sessions, since=future)
    assert report.questions == 0 and report.unanswered == []


def test_keys_order_numbers_and_emails_are_masked_before_storage(kb_sessions):
    _ask(kb_sessions, "key ABCDE-12345-FGHIJ for order 2024112233445566 mail me@x.com")
    with kb_sessions() as session:
        stored = session.scalars(select(QueryLog.question)).one()
    assert "ABCDE" not in stored and "2024112233445566" not in stored and "me@x.com" not in stored


def test_articles_often_marked_unhelpful_are_listed_with_comments(kb_sessions):
    for helpful in (False, False, False, True):
        _vote(kb_sessions, "refund-policy-en", helpful, None if helpful else "does not say when")
    for helpful in (True, True, True, False):
        _vote(kb_sessions, "invoice-en", helpful)
    _vote(kb_sessions, "region-lock-en", False)  # one vote: not enough to judge
    report = build_report(session_factory=kb_sessions, min_votes=3, min_unhelpful_rate=0.5)
    assert [a.article_id for a in report.unhelpful_articles] == ["refund-policy-en"]
    article = report.unhelpful_articles[0]
    assert (article.helpful, article.unhelpful) == (1, 3)
    assert article.unhelpful_rate == pytest.approx(0.75)
    assert article.comments == ("does not say when",) * 3


def test_feedback_for_an_unknown_article_is_refused(kb_sessions, shared_kb: KnowledgeBase):
    service = KnowledgeBaseService(shared_kb, kb_sessions)
    with pytest.raises(FeedbackError, match="unknown article"):
        service.give_feedback(article_id="no-such-article", helpful=True)
    with pytest.raises(FeedbackError, match="true or false"):
        record_feedback(session_factory=kb_sessions, article_id="x", language="en", helpful="yes")


def test_the_service_logs_questions_and_links_feedback(kb_sessions, shared_kb: KnowledgeBase):
    service = KnowledgeBaseService(shared_kb, kb_sessions)
    asked = service.ask("怎么开发票", "zh", channel="telegram")
    assert asked.result.confident and asked.query_id is not None
    service.give_feedback(
        article_id=asked.result.answers[0].article.id, helpful=False, query_id=asked.query_id
    )
    missed = service.ask("你们卖不卖二手手机", "zh")
    assert not missed.result.confident
    assert service.ask("", "zh").query_id is None  # nothing to learn from empty input
    report = service.report(min_votes=1)
    assert report.questions == 2 and report.answered == 1
    assert report.unanswered[0].question == "你们卖不卖二手手机"
    assert report.unhelpful_articles[0].article_id == "invoice-zh"
    markdown = report_markdown(report, service.titles())
    assert "你们卖不卖二手手机" in markdown and "invoice-zh" in markdown
