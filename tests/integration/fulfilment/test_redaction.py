"""Issue 10: a card key pasted into free text is masked before it is stored or shown."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from fulfilment.actors import Actor
from fulfilment.models import AuditEntry, Refund, ReissueRequest
from fulfilment.ports import KeyCheckResult, KeyCheckStatus
from fulfilment.redaction import looks_like_key, redact_keys
from fulfilment.services import catalog
from fulfilment.services.delivery import deliver_order
from fulfilment.services.ownership import Proof, reveal_keys
from fulfilment.services.queries import order_history
from fulfilment.services.refunds import request_refund
from fulfilment.services.reissue import reissue_key
from tests.factories import card_product, paid_order

ORDER = "KM2026112200901"


@pytest.fixture
def store(uow):  # type: ignore[no-untyped-def]
    stored = {
        "EXACT": ["Steam50keyZZ", "1234567890123456", " QWER TYUI 0PAS DFGH "],
        "ANYCASE": ["Apple100CardXX"],
    }
    for sku, keys in stored.items():
        catalog.create_product(
            uow=uow,
            sku=sku,
            name=sku,
            kind="card_key",
            face_value=Decimal("10"),
            price=Decimal("10.00"),
            currency="CNY",
            keys_case_sensitive=sku == "EXACT",
            actor=Actor.system("test"),
        )
        catalog.import_keys(uow=uow, sku=sku, keys=keys, actor=Actor.system("test"))


def redact(uow, value: str) -> str:  # type: ignore[no-untyped-def]
    with uow:
        return redact_keys(uow.session, uow.vault, value)


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("my key Steam50keyZZ does not work", "my key ****EYZZ does not work"),
        ("我的卡密Steam50keyZZ用不了", "我的卡密****EYZZ用不了"),
        ("key: 'Steam50keyZZ'.", "key: '****EYZZ'."),
        ("point card 1234567890123456 says used", "point card ****3456 says used"),
        ("it reads QWER TYUI 0PAS DFGH, see photo", "it reads ****DFGH, see photo"),
        ("any case here: apple100cardxx!", "any case here: ****RDXX!"),
    ],
)
def test_a_key_in_the_store_is_masked_wherever_it_appears(uow, store, written, kept):
    assert redact(uow, written) == kept
    assert redact(uow, kept) == kept  # masking twice changes nothing


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("new key X7KQ-9P2M-4R8T-ZZ11 fails", "new key ****ZZ11 fails"),
        ("code X7KQ9P2M4R8TZZ11 fails", "code ****ZZ11 fails"),
        # Not keys: an order number, a phone, a date, words, a key of an exact product in
        # another case (another key, and it has no key shape).
        ("order KM2026112200017, phone 13800138000", "order KM2026112200017, phone 13800138000"),
        ("on 2026-11-30 a well-known-thing", "on 2026-11-30 a well-known-thing"),
        ("steam50keyzz is not the stored key", "steam50keyzz is not the stored key"),
    ],
)
def test_text_that_looks_like_a_key_is_masked_and_ordinary_text_is_not(uow, store, written, kept):
    assert redact(uow, written) == kept


def test_the_shape_rule_on_its_own():
    assert looks_like_key("ABCD-EFGH-JKLM") and looks_like_key("abcd-ef12-ghij")
    assert not looks_like_key("abcd-efgh-ijkl") and not looks_like_key("KM2026112200017")


@pytest.fixture
def delivered(uow, suppliers):  # type: ignore[no-untyped-def]
    supplier = suppliers.add("sup-a")
    card_product(uow, keys=3)
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    [revealed] = reveal_keys(
        uow=uow,
        order_no=ORDER,
        claimant=Actor.customer("tg:1"),
        proof=Proof(email="a@example.com"),
    ) or [None]
    assert revealed is not None
    return supplier, revealed.key


def stored_texts(uow) -> list[str]:  # type: ignore[no-untyped-def]
    with uow:
        return [
            *(r or "" for r in uow.session.scalars(select(AuditEntry.reason))),
            *uow.session.scalars(select(ReissueRequest.reason)),
            *uow.session.scalars(select(Refund.reason)),
        ]


def test_a_key_pasted_into_a_reissue_or_refund_reason_is_never_stored_or_served(uow, delivered):
    supplier, key = delivered
    supplier.default_check = KeyCheckResult(KeyCheckStatus.UNUSED)
    reason = f"customer pasted {key} and says it is used"
    reissue_key(
        uow=uow, order_no=ORDER, request_id="rq-1", reason=reason, requested_by=Actor.system("bot")
    )
    request_refund(
        uow=uow,
        order_no=ORDER,
        request_id="rf-1",
        reason=f"refund {key}",
        requested_by=Actor.system("bot"),
    )
    texts = stored_texts(uow)
    assert any(f"customer pasted ****{key[-4:]} and says" in t for t in texts)
    assert any(f"refund ****{key[-4:]}" == t for t in texts)
    assert not any(key in t for t in texts)
    history = order_history(uow=uow, order_no=ORDER)
    assert not any(key in str(entry) for entry in history)


def test_an_entry_written_before_redaction_existed_is_served_masked(uow, delivered):
    _, key = delivered
    with uow:  # the audit log is append-only: the old plaintext cannot be rewritten
        uow.session.add(
            AuditEntry(
                actor="staff:old",  # written before actors had a kind
                action="reissue.requested",
                entity="order",
                entity_id=ORDER,
                reason=f"old note with {key}",
            )
        )
        uow.commit()
    [old] = [e for e in order_history(uow=uow, order_no=ORDER) if e.actor == "staff:old"]
    assert old.reason == f"old note with ****{key[-4:]}"
