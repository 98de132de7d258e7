"""Which order the conversation is about, and proof that the customer owns it."""

from __future__ import annotations

import re

from bot.engine import Turn
from bot.orders import NotFound, OrderFacts, Proof
from bot.state import Pending
from bot.text import phone_in

# -- order selection and proof ------------------------------------------------------------------


def select_order(turn: Turn, order_no: str) -> None:
    state = turn.state
    if state.order_no != order_no:
        state.order_no = order_no
        if state.pending is not None and state.pending.kind in ("confirm", "dispute"):
            state.pending = None  # a confirmation was about the previous order


# "my phone number is ...", "手机号：..." present a contact; "topped up my phone 138..." does not.
_CONTACT_WORDS = re.compile(
    r"((phone|mobile|contact)( number)?\s*(is|:)|number is|"
    r"(手机|手機|电话|電話)(号码?|號碼?)?\s*(是|:|：)|(手机|手機)号|(手机|手機)號|号码是|號碼是|"
    r"e-?mail|邮箱|郵箱|信箱|电邮|電郵)",
    re.IGNORECASE,
)


def says_contact(text: str) -> bool:
    """The customer presents an email or phone as theirs ("my email is ...", "手机号 ...")."""
    return bool(_CONTACT_WORDS.search(text))


def proof_from(entities: dict[str, str], text: str = "", *, asked: bool = True) -> Proof | None:
    """The email or phone the message offers as proof. An email is always meant as one; a
    phone number only when `asked` (else it may be the number to top up)."""
    if entities.get("email"):
        return Proof(email=entities["email"])
    if not asked:
        return None
    phone = entities.get("phone") or phone_in(text)
    return Proof(phone=phone) if phone else None


def proof_kind(proof: Proof) -> str:
    return "telegram" if proof.telegram_id else "email" if proof.email else "phone"


def guess_scopes(turn: Turn) -> dict[str, str | None]:
    return {
        "conversation": turn.conversation.id,
        "user": turn.conversation.user_id,
        "ip": turn.incoming.client_ip,
    }


def prove(turn: Turn, order_no: str, proof: Proof) -> bool:
    """Try a proof of ownership; says why when it fails (the same words whether or not the
    order exists)."""
    guard = turn.engine.guard
    scopes = guess_scopes(turn)
    if not guard.may_prove(scopes):
        turn.say("proof_limited")
        return False
    result = turn.engine.orders.prove(order_no=order_no, claimant=turn.actor, proof=proof)
    if result.locked:
        turn.say("proof_locked")
        return False
    if result.throttled:
        turn.say("proof_throttled")
        return False
    if not result.proven:
        guard.failed_proof(scopes)
        turn.state.failed_proofs += 1
        turn.say("proof_failed")
        return False
    remember_proof(turn, order_no, proof)
    turn.links.append((order_no, proof_kind(proof)))
    return True


def remember_proof(turn: Turn, order_no: str, proof: Proof) -> None:
    # Kept so keys can be revealed later in the conversation (the service checks it again).
    turn.state.proven[order_no] = encode(proof)


def encode(proof: Proof) -> str:
    """A proof as kept in the conversation state: `email:...`, `phone:...`, `telegram:...`."""
    return f"{proof_kind(proof)}:{proof.telegram_id or proof.email or proof.phone or ''}"


def decode(raw: str | None) -> Proof | None:
    if not raw or ":" not in raw:
        return None
    kind, value = raw.split(":", 1)
    if kind == "telegram":
        return Proof(telegram_id=value)
    return Proof(email=value) if kind == "email" else Proof(phone=value)


def stored_proof(turn: Turn, order_no: str) -> Proof | None:
    return decode(turn.state.proven.get(order_no))


def telegram_orders(turn: Turn, intent: str) -> None:
    """A Telegram customer is proven by their identity when the order names it."""
    user_id = turn.conversation.user_id
    if not user_id or turn.conversation.channel != "telegram":
        return
    state = turn.state
    if state.order_no and state.order_no in state.proven:
        return
    mine = turn.engine.orders.telegram_orders(user_id)
    if state.order_no:
        if state.order_no in mine:
            prove(turn, state.order_no, Proof(telegram_id=user_id))
        return
    if len(mine) == 1:
        state.order_no = mine[0]
        prove(turn, mine[0], Proof(telegram_id=user_id))
    elif mine:
        state.pending = Pending("choose_order", intent=intent)
        turn.say(
            "choose_order",
            buttons_extra=tuple((no, {"do": "order", "order_no": no}) for no in mine),
        )


def facts_of(turn: Turn, order_no: str) -> OrderFacts | None:
    try:
        return turn.engine.orders.facts(order_no)
    except NotFound:
        return None
