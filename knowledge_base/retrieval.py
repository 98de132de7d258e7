"""Lexical retrieval (BM25 over weighted fields) with a calibrated confidence.

An index per language is built from the article store and rebuilt whenever the store's files
change. Title, customer phrasings ("questions" in the front matter) and tags weigh more than
the body. Candidates are described by scale-free features that `Calibration` turns into the
probability that the article answers the question.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from knowledge_base.articles import Article
from knowledge_base.calibration import Features
from knowledge_base.text import Tokenizer

K1 = 1.2
B = 0.75
FIELD_WEIGHTS = {"title": 3.0, "questions": 2.0, "tags": 2.0, "body": 1.0}
BIGRAM_WEIGHT = 0.5  # Chinese character bigrams back up word matches; they must not dominate
SNIPPET_CHARS = 220
_SENTENCE = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+|\n+")
_MARKDOWN = re.compile(r"[*_`#>|]+|^\s*[-+]\s+|^\s*\d+\.\s+|\[([^\]]*)\]\([^)]*\)", re.MULTILINE)


@dataclass(frozen=True)
class Candidate:
    """A scored article for one question, before calibration."""

    article: Article
    score: float
    features: Features
    snippet: str


@dataclass
class _Doc:
    article: Article
    length: float
    sentences: list[tuple[str, frozenset[str]]]
    headline: frozenset[str]  # terms of the title, customer phrasings and tags


def plain_text(markdown: str) -> str:
    """Markdown -> readable text for snippets."""
    return _MARKDOWN.sub(lambda m: m.group(1) or "", markdown)


def _deletions(word: str) -> set[str]:
    """Every string one deleted letter away (SymSpell: also covers swaps and substitutions)."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _term_weight(term: str) -> float:
    return BIGRAM_WEIGHT if term.startswith("#") else 1.0


class LanguageIndex:
    """BM25 over the articles of one language."""

    def __init__(self, articles: list[Article], language: str, tokenizer: Tokenizer) -> None:
        self.language = language
        self.tokenizer = tokenizer
        self.docs: list[_Doc] = []
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for article in articles:
            self._add(article)
        n = len(self.docs)
        self.avg_length = sum(d.length for d in self.docs) / n if n else 1.0
        self.idf = {
            term: math.log(1 + (n - len(post) + 0.5) / (len(post) + 0.5))
            for term, post in self.postings.items()
        }
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        # Spelling correction (English): known words and synonyms, keyed by their deletions.
        self._spelling: dict[str, set[str]] = {}
        if language == "en":
            known = {t: t for t in self.postings}
            synonyms = tokenizer.synonyms.terms.get("en", {})
            known |= {word: target for word, target in synonyms.items() if target in self.postings}
            for word, target in known.items():
                if word.isalpha() and len(word) >= 4:
                    for variant in (word, *_deletions(word)):
                        self._spelling.setdefault(variant, set()).add(target)

    def _add(self, article: Article) -> None:
        tokens = self.tokenizer.tokens
        lang = self.language
        tf: dict[str, float] = {}
        headline: set[str] = set()
        fields = {
            "title": article.title,
            "questions": "\n".join(article.questions),
            "tags": " ".join(article.tags + article.products),
            "body": plain_text(article.body),
        }
        for name, text in fields.items():
            for term in tokens(text, lang):
                tf[term] = tf.get(term, 0.0) + FIELD_WEIGHTS[name]
                if name != "body":
                    headline.add(term)
        sentences = []
        for raw in _SENTENCE.split(plain_text(article.body)):
            sentence = " ".join(raw.split())
            if len(sentence) >= 4:
                sentences.append((sentence, frozenset(tokens(sentence, lang))))
        doc_id = len(self.docs)
        self.docs.append(_Doc(article, sum(tf.values()), sentences, frozenset(headline)))
        for term, freq in tf.items():
            self.postings.setdefault(term, []).append((doc_id, freq))

    def search(self, question: str, k: int) -> list[Candidate]:
        """The k best candidates for a question, best first (empty when nothing matches)."""
        terms = {self._correct(t) for t in self.tokenizer.tokens(question, self.language)}
        if not terms or not self.docs:
            return []
        weights = {t: _term_weight(t) * self.idf.get(t, self.unseen_idf) for t in terms}
        total_weight = sum(weights.values())
        scores: dict[int, float] = {}
        matched: dict[int, set[str]] = {}
        for term in terms:
            for doc_id, freq in self.postings.get(term, ()):
                norm = K1 * (1 - B + B * self.docs[doc_id].length / self.avg_length)
                gain = weights[term] * freq * (K1 + 1) / (freq + norm)
                scores[doc_id] = scores.get(doc_id, 0.0) + gain
                matched.setdefault(doc_id, set()).add(term)
        if not scores:
            return []
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        best_possible = total_weight * (K1 + 1)
        words = [t for t in terms if not t.startswith("#")] or list(terms)
        out = []
        for rank, (doc_id, score) in enumerate(ranked[:k]):
            other = ranked[1][1] if rank == 0 and len(ranked) > 1 else ranked[0][1]
            if rank == 0 and len(ranked) == 1:
                other = 0.0
            hit = matched[doc_id]
            doc = self.docs[doc_id]
            features = Features(
                score_ratio=score / best_possible,
                coverage=sum(weights[t] for t in hit) / total_weight,
                margin=(score - other) / score,
                log_score=math.log1p(score),
                matched_terms=min(5, sum(1 for t in words if t in hit)) / 5,
                headline=sum(weights[t] for t in hit & doc.headline) / total_weight,
            )
            out.append(Candidate(doc.article, score, features, self._snippet(doc, terms)))
        return out

    def _correct(self, term: str) -> str:
        """A misspelt English word ("reciept") -> the known word one edit away ("receipt")."""
        if term in self.postings or not self._spelling or len(term) < 5 or not term.isalpha():
            return term
        found: set[str] = set()
        for variant in (term, *_deletions(term)):
            found |= self._spelling.get(variant, set())
        if not found:
            return term
        # The most widely used candidate; ties broken alphabetically for stable results.
        return min(found, key=lambda t: (-len(self.postings[t]), t))

    @staticmethod
    def _snippet(doc: _Doc, terms: set[str]) -> str:
        best, best_hits = "", -1
        for sentence, sentence_terms in doc.sentences:
            hits = len(terms & sentence_terms)
            if hits > best_hits:
                best, best_hits = sentence, hits
        if best_hits <= 0 and doc.sentences:
            best = doc.sentences[0][0]
        return best if len(best) <= SNIPPET_CHARS else best[: SNIPPET_CHARS - 1] + "…"
