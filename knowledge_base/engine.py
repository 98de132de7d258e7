"""The knowledge base as callers see it: ask a question, get answers or an honest "don't know".

`KnowledgeBase.find_answers(question, language, k)` returns `(article, score, snippet)` tuples
whose score is the calibrated probability that the article answers the question; only answers
at or above the threshold are returned, so an empty list means "no confident answer".
`search` returns every candidate with the verdict, for agents and evaluation.

Articles are re-read when their files change (checked at most every `refresh_seconds`), or
at once with `reload()`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from knowledge_base.articles import Article as Article
from knowledge_base.articles import ArticleStore, normalise_language
from knowledge_base.calibration import Calibration
from knowledge_base.retrieval import Candidate, LanguageIndex
from knowledge_base.text import Tokenizer, clean, is_chinese

ARTICLES_DIR = Path(__file__).with_name("articles")
MAX_K = 20


class Answer(NamedTuple):
    """One suggested article: score is P(it answers the question), 0..1."""

    article: Article
    score: float
    snippet: str


@dataclass(frozen=True)
class SearchResult:
    """Every candidate for a question, best first, and whether the best one is confident."""

    question: str
    language: str
    answers: list[Answer]
    threshold: float

    @property
    def confident(self) -> bool:
        return bool(self.answers) and self.answers[0].score >= self.threshold

    @property
    def best(self) -> Answer | None:
        """The top answer if it is confident, else None ("no confident answer")."""
        return self.answers[0] if self.confident else None


class KnowledgeBase:
    """Articles, their per-language indexes and the confidence model."""

    def __init__(
        self,
        articles_dir: Path | str = ARTICLES_DIR,
        *,
        calibration: Calibration | None = None,
        tokenizer: Tokenizer | None = None,
        refresh_seconds: float = 2.0,
    ) -> None:
        self.store = ArticleStore(articles_dir)
        self.calibration = calibration or Calibration.load()
        self.tokenizer = tokenizer or Tokenizer()
        self.refresh_seconds = refresh_seconds
        self._indexes: dict[str, LanguageIndex] = {}
        self._indexed_version = -1
        self._checked_at = 0.0
        self._lock = threading.Lock()

    @property
    def threshold(self) -> float:
        return self.calibration.threshold

    def reload(self) -> None:
        """Re-read every article file and rebuild the indexes now."""
        self.store.refresh(force=True)
        self._rebuild_if_stale(force=False)

    def _rebuild_if_stale(self, *, force: bool) -> None:
        with self._lock:
            if force or self._indexed_version != self.store.version:
                articles = self.store.all()
                self.tokenizer.add_words(
                    [w for a in articles if a.language == "zh" for w in a.tags + a.products]
                )
                self._indexes = {
                    lang: LanguageIndex(
                        [a for a in articles if a.language == lang], lang, self.tokenizer
                    )
                    for lang in ("zh", "en")
                }
                self._indexed_version = self.store.version

    def _fresh_indexes(self) -> dict[str, LanguageIndex]:
        now = time.monotonic()
        if now - self._checked_at >= self.refresh_seconds:
            self._checked_at = now
            self.store.refresh()
        self._rebuild_if_stale(force=False)
        return self._indexes

    def search(self, question: object, language: str | None = None, k: int = 3) -> SearchResult:
        """All candidates (at most k) with calibrated scores; never raises for bad input."""
        text = clean(question)
        lang = normalise_language(language) or ("zh" if is_chinese(text) else "en")
        k = max(1, min(int(k), MAX_K)) if isinstance(k, int) else 3
        threshold = self.calibration.threshold
        if not text:
            return SearchResult("", lang, [], threshold)
        index = self._fresh_indexes()[lang]
        answers = [
            Answer(c.article, round(self.calibration.probability(c.features), 4), c.snippet)
            for c in index.search(text, k)
        ]
        answers.sort(key=lambda a: -a.score)
        return SearchResult(text, lang, answers, threshold)

    def find_answers(
        self, question: object, language: str | None = None, k: int = 3
    ) -> list[Answer]:
        """Confident answers only, best first; [] means "no confident answer"."""
        result = self.search(question, language, k)
        return [a for a in result.answers if a.score >= result.threshold]

    def translation(self, article: Article, language: str) -> Article | None:
        """The same topic in another language (for a customer who switched language)."""
        lang = normalise_language(language)
        if lang == article.language:
            return article
        return next((a for a in self.store.all(lang) if a.topic == article.topic), None)

    def candidates(self, question: str, language: str, k: int = 5) -> list[Candidate]:
        """Raw candidates with features (for calibration and evaluation tools)."""
        lang = normalise_language(language) or "en"
        return self._fresh_indexes()[lang].search(clean(question), k)
