"""Fixtures for knowledge-base unit tests: the packaged articles, loaded once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge_base import KnowledgeBase
from knowledge_base.engine import ARTICLES_DIR
from knowledge_base.text import Tokenizer


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="session")
def kb(tokenizer: Tokenizer) -> KnowledgeBase:
    """The shipped knowledge base (read-only: do not edit its articles in tests)."""
    return KnowledgeBase(tokenizer=tokenizer)


@pytest.fixture
def articles_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped articles."""
    target = tmp_path / "articles"
    shutil.copytree(ARTICLES_DIR, target)
    return target


@pytest.fixture
def writable_kb(articles_copy: Path, tokenizer: Tokenizer) -> KnowledgeBase:
    return KnowledgeBase(articles_copy, tokenizer=tokenizer, refresh_seconds=0)
