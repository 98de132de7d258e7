"""Articles: Markdown files with YAML front matter, one file per article and language.

A file looks like::

    ---
    id: redeem-steam-en
    language: en
    title: How to redeem a Steam Wallet code
    tags: [steam, redeem]
    intents: [redeem_help]
    products: [steam]
    questions: [How do I add a Steam gift card to my account?]
    ---
    Markdown body...

`ArticleStore` reads a directory tree of such files and notices edits (file added, changed or
removed) without a restart; it also writes files for the admin API, so git and the API edit
the same source of truth.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge_base.errors import ArticleFormatError, ArticleNotFound

LANGUAGES = ("zh", "en")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
MAX_TITLE = 200
MAX_BODY = 50_000
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)(.*)\Z", re.DOTALL)
_LANGUAGE_SUFFIX = re.compile(r"-(zh|en)$")


@dataclass(frozen=True)
class Article:
    """One help-centre article in one language."""

    id: str
    language: str
    title: str
    body: str
    tags: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    topic: str = ""
    path: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.topic:
            object.__setattr__(self, "topic", _LANGUAGE_SUFFIX.sub("", self.id))


def normalise_language(language: str | None) -> str | None:
    """'zh-CN', 'ZH', 'zh_Hans' -> 'zh'; 'en-US' -> 'en'; anything else -> None."""
    if not language:
        return None
    head = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return head if head in LANGUAGES else None


def _str_list(meta: dict, key: str, where: str) -> tuple[str, ...]:
    value = meta.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ArticleFormatError(f"{where}: '{key}' must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def make_article(meta: dict, body: str, *, where: str = "article", path: Path | None = None):
    """Validate front-matter fields and a body into an `Article`."""
    if not isinstance(meta, dict):
        raise ArticleFormatError(f"{where}: front matter must be a mapping")
    article_id = str(meta.get("id") or "").strip()
    if not ID_PATTERN.match(article_id):
        raise ArticleFormatError(
            f"{where}: id {article_id!r} must be 2-80 chars of a-z, 0-9 and '-'"
        )
    language = normalise_language(str(meta.get("language") or ""))
    if language is None:
        raise ArticleFormatError(f"{where}: language must be one of {', '.join(LANGUAGES)}")
    title = str(meta.get("title") or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise ArticleFormatError(f"{where}: title is required (at most {MAX_TITLE} chars)")
    body = (body or "").strip()
    if not body or len(body) > MAX_BODY:
        raise ArticleFormatError(f"{where}: body is required (at most {MAX_BODY} chars)")
    topic = str(meta.get("topic") or "").strip()
    return Article(
        id=article_id,
        language=language,
        title=title,
        body=body,
        tags=_str_list(meta, "tags", where),
        intents=_str_list(meta, "intents", where),
        products=_str_list(meta, "products", where),
        questions=_str_list(meta, "questions", where),
        topic=topic,
        path=path,
    )


def parse_article(text: str, *, where: str = "article", path: Path | None = None) -> Article:
    """Parse a Markdown document with front matter."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise ArticleFormatError(f"{where}: missing '---' front matter block")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ArticleFormatError(f"{where}: front matter is not valid YAML: {exc}") from exc
    return make_article(meta, match.group(2), where=where, path=path)


def render_article(article: Article) -> str:
    """The Markdown file for an article (inverse of `parse_article`)."""
    meta: dict = {"id": article.id, "language": article.language, "title": article.title}
    if article.topic and article.topic != _LANGUAGE_SUFFIX.sub("", article.id):
        meta["topic"] = article.topic
    for key in ("tags", "intents", "products", "questions"):
        values = list(getattr(article, key))
        if values:
            meta[key] = values
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n\n{article.body.strip()}\n"


class ArticleStore:
    """Articles under a directory (`<root>/<lang>/<id>.md`), reloaded when files change."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._signature: tuple = ()
        self._articles: dict[str, Article] = {}
        self.errors: list[str] = []
        self.version = 0
        self.refresh()

    def _files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.rglob("*.md") if p.is_file())

    def _current_signature(self) -> tuple:
        sig = []
        for path in self._files():
            try:
                st = path.stat()
            except OSError:  # removed between listing and stat; the next check sees it
                continue
            sig.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(sig)

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read the files if any was added, changed or removed; True when it reloaded.

        Changes are noticed by (path, mtime, size); `force` re-reads regardless, for
        file systems whose timestamps are too coarse to see two quick edits.
        """
        with self._lock:
            signature = self._current_signature()
            if signature == self._signature and not force:
                return False
            self._load(signature)
            return True

    def _load(self, signature: tuple) -> None:
        articles: dict[str, Article] = {}
        errors: list[str] = []
        for path_str, _mtime, _size in signature:
            path = Path(path_str)
            try:
                article = parse_article(path.read_text("utf-8"), where=str(path), path=path)
            except (ArticleFormatError, OSError, UnicodeDecodeError) as exc:
                errors.append(str(exc))  # one bad file must not take the help centre down
                continue
            if article.id in articles:
                errors.append(f"{path}: duplicate id {article.id!r}")
                continue
            articles[article.id] = article
        self._articles, self.errors, self._signature = articles, errors, signature
        self.version += 1

    def all(self, language: str | None = None) -> list[Article]:
        """Every article (optionally of one language), sorted by id."""
        items = sorted(self._articles.values(), key=lambda a: a.id)
        return [a for a in items if language is None or a.language == language]

    def get(self, article_id: str) -> Article:
        """The article with this id, or `ArticleNotFound`."""
        try:
            return self._articles[article_id]
        except KeyError:
            raise ArticleNotFound(article_id) from None

    def save(self, article: Article) -> Article:
        """Create or replace the article's file; returns the stored article."""
        existing = self._articles.get(article.id)
        path = existing.path if existing and existing.path else None
        path = path or self.root / article.language / f"{article.id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".md.tmp")
        tmp.write_text(render_article(article), "utf-8")
        os.replace(tmp, path)  # readers never see a half-written file
        self.refresh(force=True)
        return self.get(article.id)

    def delete(self, article_id: str) -> None:
        """Remove the article's file."""
        article = self.get(article_id)
        if article.path is not None:
            article.path.unlink(missing_ok=True)
        self.refresh(force=True)

    def ids(self) -> Iterable[str]:
        return self._articles.keys()
