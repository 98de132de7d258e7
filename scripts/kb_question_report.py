"""The knowledge base's "what to write next" report for a question set, as if customers had
asked every question once (no live database touched).

    python scripts/kb_question_report.py knowledge_base/eval/blind_questions.yml

Asks each question through `KnowledgeBaseService.ask` into a throw-away SQLite database
(migrated like production), then prints `kamidesk kb report`'s Markdown: the questions without a
confident answer, grouped, which are the articles to write next.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kamidesk.db import make_engine, make_session_factory, upgrade
from knowledge_base import KnowledgeBase, KnowledgeBaseService
from knowledge_base.evaluation import load_questions
from knowledge_base.reporting import report_markdown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path, help="question set (YAML, knowledge_base/eval)")
    parser.add_argument("--limit", type=int, default=100, help="rows per section")
    args = parser.parse_args()
    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/report.db"
        upgrade(url)
        engine = make_engine(url)
        try:
            service = KnowledgeBaseService(KnowledgeBase(), make_session_factory(engine))
            for question in questions:
                service.ask(question.text, question.language, channel="report")
            since = datetime.now(UTC) - timedelta(days=1)
            data = service.report(since=since, limit=args.limit, min_votes=3)
            print(report_markdown(data, service.titles()))
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
