from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge_base.articles import (
    Article,
    ArticleStore,
    normalise_language,
    parse_article,
    render_article,
)
from knowledge_base.errors import ArticleFormatError, ArticleNotFound

GOOD = """---
id: redeem-test-en
language: en
title: How to redeem a test card
tags: [test, redeem]
questions: ["Where do I enter the test code?"]
---
Open the **store** and enter the code.
"""


def _write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_an_article_is_parsed_from_front_matter_and_body():
    article = parse_article(GOOD)
    assert article.id == "redeem-test-en"
    assert article.language == "en"
    assert article.tags == ("test", "redeem")
    assert article.topic == "redeem-test"
    assert article.body.startswith("Open the **store**")


def test_rendering_and_parsing_again_gives_the_same_article():
    article = parse_article(GOOD)
    assert parse_article(render_article(article)) == article


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "front matter"),
        ("---\nid: [unclosed\n---\nbody", "YAML"),
        ("---\nid: Bad Id\nlanguage: en\ntitle: t\n---\nbody", "id"),
        ("---\nid: ok-id\nlanguage: fr\ntitle: t\n---\nbody", "language"),
        ("---\nid: ok-id\nlanguage: en\n---\nbody", "title"),
        ("---\nid: ok-id\nlanguage: en\ntitle: t\n---\n", "body"),
        ("---\nid: ok-id\nlanguage: en\ntitle: t\ntags: {a: 1}\n---\nbody", "tags"),
        ("---\n- a list\n---\nbody", "mapping"),
    ],
)
def test_invalid_articles_are_rejected_with_a_clear_message(text: str, message: str):
    with pytest.raises(ArticleFormatError, match=message):
        parse_article(text)


def test_ids_cannot_escape_the_article_directory():
    with pytest.raises(ArticleFormatError):
        parse_article(GOOD.replace("redeem-test-en", "../../etc/passwd"))


def test_language_codes_are_normalised():
    assert normalise_language("zh-CN") == "zh"
    assert normalise_language("EN_us") == "en"
    assert normalise_language("fr") is None
    assert normalise_language(None) is None


def test_the_store_notices_added_changed_and_removed_files(tmp_path: Path):
    store = ArticleStore(tmp_path)
    assert store.all() == []
    path = _write(tmp_path, "en/a.md", GOOD)
    assert store.refresh() is True
    assert store.get("redeem-test-en").title == "How to redeem a test card"
    path.write_text(GOOD.replace("a test card", "a changed card"), "utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    assert store.refresh() is True
    assert store.get("redeem-test-en").title == "How to redeem a changed card"
    assert store.refresh() is False
    path.unlink()
    assert store.refresh() is True
    with pytest.raises(ArticleNotFound):
        store.get("redeem-test-en")


def test_one_broken_file_does_not_hide_the_others(tmp_path: Path):
    _write(tmp_path, "en/good.md", GOOD)
    _write(tmp_path, "en/bad.md", "not an article")
    _write(tmp_path, "en/dup.md", GOOD)
    store = ArticleStore(tmp_path)
    assert [a.id for a in store.all()] == ["redeem-test-en"]
    assert len(store.errors) == 2
    assert any("duplicate id" in e for e in store.errors)


def test_saving_writes_a_markdown_file_that_git_can_track(tmp_path: Path):
    store = ArticleStore(tmp_path)
    article = Article(id="new-one-zh", language="zh", title="新文章", body="正文内容。")
    saved = store.save(article)
    assert saved.path == tmp_path / "zh" / "new-one-zh.md"
    assert parse_article(saved.path.read_text("utf-8")).title == "新文章"
    store.delete("new-one-zh")
    assert not saved.path.exists()
    assert store.all() == []


def test_deleting_an_unknown_article_is_an_error(tmp_path: Path):
    with pytest.raises(ArticleNotFound):
        ArticleStore(tmp_path).delete("nope")
