"""Errors raised by the knowledge base.

    KnowledgeBaseError
     ├── ArticleError
     │    ├── ArticleFormatError   a Markdown file or API payload is not a valid article
     │    └── ArticleNotFound      no article with that id
     └── FeedbackError            feedback that cannot be stored (unknown article, bad rating)

Retrieval never raises for a customer's text: empty, huge, emoji-only or markup-only questions
simply get no confident answer.
"""

from __future__ import annotations


class KnowledgeBaseError(Exception):
    """Base of every knowledge-base error."""


class ArticleError(KnowledgeBaseError):
    """Something is wrong with an article."""


class ArticleFormatError(ArticleError):
    """A Markdown file or API payload is not a valid article."""


class ArticleNotFound(ArticleError):
    """No article with that id."""


class FeedbackError(KnowledgeBaseError):
    """Feedback that cannot be stored."""
