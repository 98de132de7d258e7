"""Text to search terms, for Chinese (no spaces) and English.

Chinese is segmented with a private jieba tokenizer plus character bigrams, which catch
words jieba splits differently in the question and the article. English is lower-cased,
split on non-letters and lightly stemmed. Both map synonyms onto one canonical term
(synonyms.yml), so "activation code" meets "key".

`clean` makes any customer text safe: markup, URLs, emoji and control characters go, and
very long input is cut, so tokenising is bounded in time whatever arrives.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from pathlib import Path

import yaml

MAX_QUESTION_CHARS = 500
SYNONYMS_FILE = Path(__file__).with_name("synonyms.yml")

_TAG = re.compile(r"<[^>]{0,200}>")
_URL = re.compile(r"https?://\S+|www\.\S+")
_SECRETS = (
    # e-mail addresses; starting only at the head of a run keeps the scan linear on long input
    re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{4,6}(?:-[A-Za-z0-9]{4,6}){2,}(?![A-Za-z0-9])"),
    re.compile(  # mixed letters and digits, 8+ long: keys, order numbers like KM2024...
        r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{8,}(?![A-Za-z0-9])"
    ),
    re.compile(r"\d{6,}"),  # order, phone and card numbers
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

_EN_STOP = """a an the and or but if then of to in on at by for with from into about as is are
was were be been being am do does did doing have has had having i me my mine we our you your he
she it its they them their this that these those there here what which who whom whose when where
why how can could would should will shall may might must not no yes so than too very just also
please hi hello thanks thank any some all get got one s t ll d re ve m ok okay still want need
know tell help"""
_ZH_STOP = """的 了 吗 呢 吧 啊 呀 么 嘛 哦 我 你 您 他 她 它 我们 你们 是
在 有 和 与 就 都 也 还 又 这 那 这个 那个 一个 一下 怎么 怎么办
怎样 如何 什么 为什么 为啥 啥 请问 请 能 能不能 可以 可不可以 会 要
想 帮 帮忙 一 个 不 没 到 给 把 被 让 说 对 哪 哪里 多少 几 下
上 用 过 着 得 地 还是 或者 如果 但是 然后 之后 已经 现在 今天
刚才 刚刚 你好 您好 谢谢 麻烦"""
EN_STOPWORDS = frozenset(_EN_STOP.split())
ZH_STOPWORDS = frozenset(_ZH_STOP.split())
# Characters that make a bigram meaningless ("#的卡", "#怎么").
ZH_STOPCHARS = frozenset("的了吗呢吧啊呀么嘛哦我你您他她它是在怎啥请谢要能就都也又和把")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ed", "es", "s")

log = logging.getLogger(__name__)


# Traditional characters customers from Hong Kong and Taiwan type most in this domain, folded
# to simplified ones (the articles are written in simplified Chinese).
_TRADITIONAL = str.maketrans(
    "兌換碼號單訂費發貨帳戶錢幣處區賬題問麼為這沒買賣價優點遊戲網將時間無誤錯話機雲蘋據務聯繫"
    "線詢請讓會員歡資給與還過後動開關閉視頻數據條實係體團購記錄說驗證鎖國際現儲銀確認應該從標"
    "準個們對於來紅盜騙樣麼嗎別當萬億轉審核辦顯",
    "兑换码号单订费发货帐户钱币处区账题问么为这没买卖价优点游戏网将时间无误错话机云苹据务联系"
    "线询请让会员欢资给与还过后动开关闭视频数据条实系体团购记录说验证锁国际现储银确认应该从标"
    "准个们对于来红盗骗样么吗别当万亿转审核办显",
)


def mask(text: str, replacement: str = "***") -> str:
    """Replace e-mails, card keys and long numbers (order, phone, card) with `replacement`."""
    for pattern in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def clean(text: object) -> str:
    """Customer text -> bounded plain text (markup, URLs, emoji and control chars removed)."""
    if not isinstance(text, str):
        return ""
    text = mask(text[: MAX_QUESTION_CHARS * 4], " ")  # a pasted key or order no. is noise
    text = html.unescape(_TAG.sub(" ", text))
    text = unicodedata.normalize("NFKC", _URL.sub(" ", text)).translate(_TRADITIONAL)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        kept.append(ch if cat[0] in "LN" or ch in " '-" else " ")
    return " ".join("".join(kept).split())[:MAX_QUESTION_CHARS].lower()


def is_chinese(text: str) -> bool:
    """True when a text is mostly Chinese (used to guess a missing language)."""
    cjk = len(_CJK.findall(text))
    latin = len(re.findall(r"[a-zA-Z]", text))
    return cjk > 0 and cjk * 3 >= latin


def stem(word: str) -> str:
    """A deliberately small English stemmer: plural and -ing/-ed endings."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix == "ies":
                return base + "y"
            return base
    return word


class Synonyms:
    """Synonym groups per language; every member maps to the group's first (canonical) term."""

    def __init__(self, groups: dict[str, list[list[str]]]) -> None:
        self.phrases: dict[str, dict[str, str]] = {}
        self.phrase_pattern: dict[str, re.Pattern[str] | None] = {}
        self.terms: dict[str, dict[str, str]] = {}
        for language, lists in groups.items():
            phrases: dict[str, str] = {}
            terms: dict[str, str] = {}
            for group in lists:
                canonical = self._key(language, str(group[0]))
                for member in group:
                    word = clean(str(member))
                    if language == "en" and " " in word:
                        phrases[word] = canonical.replace(" ", "_")
                    else:
                        terms[self._key(language, word)] = canonical
            # One alternation, longest phrase first, so "already been redeemed" wins over
            # "been redeemed"; a single pass keeps tokenising fast. A trailing "s" is allowed
            # so "bank cards" meets "bank card".
            ordered = sorted(phrases, key=len, reverse=True)
            alternation = "|".join(re.escape(p) for p in ordered)
            self.phrase_pattern[language] = (
                re.compile(rf"\b(?:{alternation})s?\b") if ordered else None
            )
            self.phrases[language], self.terms[language] = phrases, terms

    @staticmethod
    def _key(language: str, word: str) -> str:
        word = clean(word)
        return stem(word) if language == "en" and " " not in word else word.replace(" ", "_")

    @classmethod
    def load(cls, path: Path = SYNONYMS_FILE) -> Synonyms:
        """Read synonym groups from YAML: {zh: [[canonical, alias...], ...], en: [...]}."""
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        return cls({lang: data.get(lang) or [] for lang in ("zh", "en")})

    def words(self, language: str) -> list[str]:
        return list(self.terms.get(language, {}))


class Tokenizer:
    """Turns text into search terms for one of the two languages."""

    def __init__(self, synonyms: Synonyms | None = None) -> None:
        self.synonyms = synonyms or Synonyms.load()
        self._jieba = None
        self._jieba_lock = threading.Lock()
        self._added: set[str] = set()

    def _segmenter(self):  # type: ignore[no-untyped-def]
        with self._jieba_lock:
            if self._jieba is None:
                import jieba

                logging.getLogger("jieba").setLevel(logging.WARNING)
                segmenter = jieba.Tokenizer()  # private: other packages keep their own jieba
                for word in self.synonyms.words("zh"):
                    if _CJK.search(word):
                        segmenter.add_word(word, freq=20000)
                segmenter.initialize()
                self._jieba = segmenter
            return self._jieba

    def add_words(self, words: list[str]) -> None:
        """Teach the Chinese segmenter domain words (article tags such as 慢充, 锁区)."""
        segmenter = self._segmenter()
        for word in words:
            word = clean(word)
            if _CJK.search(word) and " " not in word and word not in self._added:
                segmenter.add_word(word, freq=20000)
                self._added.add(word)

    def tokens(self, text: str, language: str) -> list[str]:
        """Search terms of `text` (already `clean`ed or raw; both work)."""
        text = clean(text)
        if not text:
            return []
        if language == "en":
            return self._english(text)
        return self._chinese(text)

    def _english(self, text: str) -> list[str]:
        pattern = self.synonyms.phrase_pattern.get("en")
        if pattern is not None:
            phrases = self.synonyms.phrases["en"]
            text = pattern.sub(lambda m: phrases.get(m.group(0)) or phrases[m.group(0)[:-1]], text)
        terms = self.synonyms.terms.get("en", {})
        out = []
        for word in re.findall(r"[a-z0-9_]+(?:'[a-z]+)?", text):
            word = word.split("'", 1)[0]
            if word in EN_STOPWORDS or (len(word) < 2 and not word.isdigit()):
                continue
            key = word if "_" in word else stem(word)
            out.append(terms.get(key, key))
        return out

    def _chinese(self, text: str) -> list[str]:
        terms = self.synonyms.terms.get("zh", {})
        # Latin parts ("steam", "app store", "cdk") go through the English path as a whole.
        out = self._english(_CJK_RUN.sub(" ", text))
        segmenter = self._segmenter()
        for run in _CJK_RUN.findall(text):
            words = segmenter.lcut(run)
            out.extend(terms.get(w, w) for w in words if w not in ZH_STOPWORDS)
            # A bigram that is itself a segmented word would count the same match twice.
            seen = set(words)
            for i in range(len(run) - 1):
                pair = run[i : i + 2]
                if pair not in seen and not (pair[0] in ZH_STOPCHARS or pair[1] in ZH_STOPCHARS):
                    out.append(f"#{pair}")
        return out
