"""Knowledge base: bilingual help-centre articles and retrieval that answers or admits it can't.

    from knowledge_base import KnowledgeBase
    kb = KnowledgeBase()                      # articles in knowledge_base/articles/
    kb.find_answers("卡密提示已被使用", "zh")  # [(article, score, snippet)], [] = no answer

Errors: see `knowledge_base.errors`. This package imports nothing from kamidesk, bot or desk.
"""

from knowledge_base.articles import Article, ArticleStore
from knowledge_base.engine import Answer, KnowledgeBase, SearchResult
from knowledge_base.errors import (
    ArticleError,
    ArticleFormatError,
    ArticleNotFound,
    FeedbackError,
    KnowledgeBaseError,
)
from knowledge_base.service import Asked, KnowledgeBaseService

__all__ = [
    "Answer",
    "Article",
    "ArticleError",
    "ArticleFormatError",
    "ArticleNotFound",
    "ArticleStore",
    "Asked",
    "FeedbackError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeBaseService",
    "SearchResult",
]
