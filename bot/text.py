"""What the bot reads in a customer's message before the NLU sees it, and a few unambiguous
words that beat a statistical guess.

- `normalise`: full-width letters and digits (typed on Chinese keyboards: ＫＭ２０２６…) become
  ASCII (NFKC), and an order number typed in blocks ("KM 2026 1122 00001") is joined.
- `yes_or_no`: a short reply to a yes/no question, in either language.
- `says_key_fails`: the customer says a key does not work (any script).
- `phone_in`: a phone number written the way people write them (+86 139-1234-5678).
- `asks_general_question`: a "how long / how do I" question that a help article may answer.
- `asks_status`: "where is ...", "到哪了": how is an order doing.
"""

from __future__ import annotations

import re
import unicodedata

_ORDER_IN_BLOCKS = re.compile(r"\b(KM|DJ)[\s-]*((?:\d[\s-]?){12,19}\d)\b", re.IGNORECASE)
_YES_WORDS = (
    r"y|yes|yep|yeah|yup|sure|ok|okay|k|go ahead|do it|please do|confirm|right|correct|"
    r"好|好的|好吧|行|可以|是|是的|对|對|确定|確定|确认|確認|没问题|沒問題|嗯|恩|要|需要"
)
_YES = re.compile(rf"^(?:(?:{_YES_WORDS})(?:[\s,，!！.。~～]+|(?=[😀👍🙏])|$))+", re.IGNORECASE)
_NO = re.compile(
    r"^(?:(?:n|no|nope|nah|not now|cancel|never ?mind|forget it|actually no|no thanks|"
    r"no thank you)(?:[\s,，.。!！]|$)|不用|不要|算了|取消|先不|不需要|没事|沒事|不了)",
    re.IGNORECASE,
)
_KEY_FAILS = re.compile(
    r"(无效|無效|用不了|不能用|不能兑换|不能兌換|兑换失败|兌換失敗|已被使用|已使用|被用过|被用過|"
    r"错误的卡密|錯誤的序號|序號錯誤|卡密错误|卡密錯誤|invalid|already (been )?(used|redeemed)|"
    r"(doesn'?t|does not|didn'?t|won'?t|not) (work|redeem)|not valid)",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?<![\d])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?![\d])")
_QUESTION = re.compile(
    r"(多久|多长时间|多長時間|几天|幾天|怎么|怎麼|如何|能不能|可以吗|可以嗎|吗[?？]?$|嗎[?？]?$|"
    r"how (long|many|do|can|to)|when (will|does|do)|what (is|are|happens)|can i|do you|\?$|？$)",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """The message as the NLU should read it."""
    text = unicodedata.normalize("NFKC", text)
    return _ORDER_IN_BLOCKS.sub(
        lambda m: m.group(1).upper() + re.sub(r"[\s-]", "", m.group(2)), text
    )


def yes_or_no(text: str) -> bool | None:
    """True for a clear yes, False for a clear no, None otherwise."""
    short = text.strip()
    if len(short) > 40:
        return None
    if _NO.match(short):
        return False
    if _YES.match(short):
        return True
    return None


def says_key_fails(text: str) -> bool:
    return bool(_KEY_FAILS.search(text))


def phone_in(text: str) -> str | None:
    found = _PHONE.search(text)
    return re.sub(r"[\s-]", "", found.group()) if found else None


def asks_general_question(text: str) -> bool:
    return bool(_QUESTION.search(text.strip()))


_STATUS = re.compile(
    r"(where('?s| is)|status|track|arrived|到哪|哪里了|哪裡了|进度|進度|到了吗|到了嗎|"
    r"发货了吗|發貨了嗎|发了吗|發了嗎|怎么还没|怎麼還沒|查一下|查詢|查询)",
    re.IGNORECASE,
)


def asks_status(text: str) -> bool:
    """ "Where is ...", "到哪了", "status of ...": the customer asks how an order is doing."""
    return bool(_STATUS.search(text))
