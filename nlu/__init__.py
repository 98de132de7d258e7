"""Natural-language understanding: text -> intent + entities, in Rasa's `/model/parse` shape.

    from nlu import parse
    parse("订单KM2026112200017的卡密用不了")
    # {"text": ..., "intent": {"name": "key_invalid", "confidence": 0.8},
    #  "intent_ranking": [...], "entities": [{"entity": "order_id", ...}]}

Backends: the embedded parser (default, in-process, trained from nlu/data/train and cached by
the data's hash) and a Rasa 3.6 server (`RASA_URL`). This package knows nothing of kamidesk;
the wiring passes an `NLUConfig`.

Errors (see nlu.errors):

    NLUError
    ├── TrainingDataError
    ├── ModelCacheError
    └── BackendError
        ├── RasaUnavailableError
        ├── RasaAuthError
        └── RasaResponseError
"""

from nlu.config import FALLBACK_INTENT, NLUConfig
from nlu.disambiguation import disambiguation
from nlu.embedded import EmbeddedParser
from nlu.errors import (
    BackendError,
    ModelCacheError,
    NLUError,
    RasaAuthError,
    RasaResponseError,
    RasaUnavailableError,
    TrainingDataError,
)
from nlu.parser import Parser, build_parser, get_default_parser, parse, set_default_parser
from nlu.rasa_client import RasaParser

INTENTS = (
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "order_status",
    "key_invalid",
    "recharge_not_arrived",
    "refund_request",
    "refund_status",
    "payment_issue",
    "cancel_order",
    "wrong_account",
    "invoice_request",
    "complaint",
    "human_agent",
    "inform_order",
    "faq",
    "out_of_scope",
)
ENTITIES = ("order_id", "email", "phone", "card_key", "amount", "account")

__all__ = [
    "ENTITIES",
    "FALLBACK_INTENT",
    "INTENTS",
    "BackendError",
    "EmbeddedParser",
    "ModelCacheError",
    "NLUConfig",
    "NLUError",
    "Parser",
    "RasaAuthError",
    "RasaParser",
    "RasaResponseError",
    "RasaUnavailableError",
    "TrainingDataError",
    "build_parser",
    "disambiguation",
    "get_default_parser",
    "parse",
    "set_default_parser",
]
