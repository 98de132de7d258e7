"""Map public English intent data sets onto kamidesk's intents (a one-off import, kept).

    python scripts/public_nlu_data.py CLINC150/data_full.json BANKING77/train.csv \
        BANKING77/test.csv

Sources (both Creative Commons Attribution):
- CLINC150 "An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction"
  (Larson et al., 2019; CC BY 3.0): small talk and ~100 everyday intents that have nothing to do
  with a card shop (weather, jokes, flights, recipes, ...) plus its own out-of-scope queries.
- BANKING77 (Casanueva et al., 2020; CC BY 4.0): top-ups that failed or are pending, double
  charges, declined payments, refunds asked for and refunds not showing up.

Writes `nlu/data/train/public_en.yml` from the sets' *training* splits and
`nlu/data/dev/public_en.yml` from their *test* splits, so the development set never shares a
sentence with the training data, and nothing that occurs in the held-out or blind sets is
written to the training file. Only intents whose meaning matches ours are mapped; banking and
credit-card intents that a shop customer could mean differently (balances, transfers, lost cards,
...) are left out rather than forced into `out_of_scope`.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 11

# CLINC150 intent -> ours (None: skipped as ambiguous for a shop's customers).
CLINC_MAPPED = {
    "greeting": "greet",
    "goodbye": "goodbye",
    "thank_you": "thanks",
    "yes": "affirm",
    "no": "deny",
    "order_status": "order_status",
    "card_declined": "payment_issue",
}
CLINC_SKIPPED = {
    # banking / credit-card intents a shop customer may mean about their order or payment
    "transactions",
    "balance",
    "bill_balance",
    "pay_bill",
    "bill_due",
    "spending_history",
    "report_fraud",
    "freeze_account",
    "account_blocked",
    "transfer",
    "pin_change",
    "redeem_rewards",
    "rewards_balance",
    "expiration_date",
    "damaged_card",
    "report_lost_card",
    "new_card",
    "replacement_card_duration",
    "application_status",
    "international_fees",
    "exchange_rate",
    "min_payment",
    "direct_deposit",
    # conversation control that is deny/affirm/human-ish rather than off-topic
    "cancel",
    "maybe",
    "repeat",
    "change_language",
    "user_name",
    "change_user_name",
    "are_you_a_bot",
    "what_can_i_ask_you",
    "who_do_you_work_for",
    "order",
    "shopping_list",
    "shopping_list_update",
}
# BANKING77 category -> (ours, filter: keep texts matching, drop texts matching)
BANKING = {
    "pending_top_up": (
        "recharge_not_arrived",
        r"pending|still|yet|wait|not|n't|where",
        r"how long",
    ),
    "top_up_failed": ("recharge_not_arrived", r"top.?up", r"^$"),
    "top_up_reverted": ("recharge_not_arrived", r"top.?up", r"^$"),
    "transaction_charged_twice": ("payment_issue", r".", r"^$"),
    "declined_card_payment": ("payment_issue", r"declin|payment|reject", r"^$"),
    "request_refund": ("refund_request", r"refund|money back|return", r"how long|when|cash"),
    "Refund_not_showing_up": ("refund_status", r".", r"^$"),
}
TRAIN_PER_MAPPED = 24
TRAIN_PER_OFF_TOPIC = 2
TRAIN_OOS = 40
DEV_PER_MAPPED = 16
DEV_PER_OFF_TOPIC = 1
DEV_OOS = 60


def clean(text: str) -> str:
    text = " ".join(text.split())
    return text.replace("[", "(").replace("]", ")")


def sample(rng: random.Random, texts: list[str], n: int) -> list[str]:
    unique = sorted(set(clean(t) for t in texts if t.strip()))
    rng.shuffle(unique)
    return unique[:n]


def collect(clinc: dict, banking: list[dict], split: str, sizes: tuple[int, int, int]):
    per_mapped, per_off_topic, oos = sizes
    rng = random.Random(f"{SEED}-{split}")
    rows = clinc[split]
    by_intent: dict[str, list[str]] = {}
    for text, intent in rows:
        by_intent.setdefault(intent, []).append(text)
    out: dict[str, list[str]] = {}
    for intent, texts in sorted(by_intent.items()):
        if intent in CLINC_MAPPED:
            out.setdefault(CLINC_MAPPED[intent], []).extend(sample(rng, texts, per_mapped))
        elif intent not in CLINC_SKIPPED:
            out.setdefault("out_of_scope", []).extend(sample(rng, texts, per_off_topic))
    oos_split = "oos_train" if split == "train" else "oos_test"
    out["out_of_scope"].extend(sample(rng, [t for t, _ in clinc[oos_split]], oos))
    for category, (ours, keep, drop) in BANKING.items():
        texts = [
            r["text"]
            for r in banking
            if r["category"] == category
            and re.search(keep, r["text"], re.I)
            and not re.search(drop, r["text"], re.I)
        ]
        out.setdefault(ours, []).extend(sample(rng, texts, per_mapped))
    return out


def write(path: Path, intents: dict[str, list[str]], header: str, exclude: set[str]) -> None:
    lines = ['version: "3.1"', *[f"# {line}" for line in header.splitlines()], "nlu:"]
    for intent, texts in sorted(intents.items()):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        for text in texts:
            if text.casefold() not in exclude:
                lines.append(f"    - {text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_csv(path: str) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def held_out_keys() -> set[str]:
    """Sentences of the held-out and blind sets (as `check-data` compares them)."""
    sys.path.insert(0, str(ROOT))
    from nlu.checks import held_out_texts, leak_key
    from nlu.config import BLIND_DATA_FILE, BLIND_LANG_FILE, TEST_DATA_FILE

    files = [p for p in (TEST_DATA_FILE, BLIND_DATA_FILE, BLIND_LANG_FILE) if p.exists()]
    return {leak_key(text) for path in files for text in held_out_texts(path)}


def main() -> int:
    clinc = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    train_rows = read_csv(sys.argv[2])
    test_rows = read_csv(sys.argv[3])
    train = collect(clinc, train_rows, "train", (TRAIN_PER_MAPPED, TRAIN_PER_OFF_TOPIC, TRAIN_OOS))
    dev = collect(clinc, test_rows, "test", (DEV_PER_MAPPED, DEV_PER_OFF_TOPIC, DEV_OOS))
    seen = {t.casefold() for texts in train.values() for t in texts}
    source = (
        "From CLINC150 (Larson et al. 2019, CC BY 3.0) and BANKING77 (Casanueva et al. 2020,\n"
        "CC BY 4.0), mapped onto kamidesk's intents by scripts/public_nlu_data.py."
    )
    from nlu.checks import leak_key

    held_out = held_out_keys()
    train = {i: [t for t in texts if leak_key(t) not in held_out] for i, texts in train.items()}
    write(ROOT / "nlu/data/train/public_en.yml", train, source + "\nTraining splits.", set())
    write(
        ROOT / "nlu/data/dev/public_en.yml",
        dev,
        source + "\nTest splits: a development set for choosing features; never trained on.",
        seen,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
