"""Handing off to people, the knowledge base, and details collected for a ticket."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.models import Message
from knowledge_base.models import Feedback
from tests.integration.bot.shop import EMAIL, TOPUP_ORDER, count, topup_shop


def test_asking_for_a_person_hands_off_and_the_bot_goes_quiet(uow, web_chat, handoffs):
    chat = web_chat("en")
    answer = chat.say("I want to talk to a real person")
    assert "colleague" in answer
    (request,) = handoffs.requests
    assert request.category == "human_agent"
    # The bot answers nothing of substance now: it says once that a person has it, then waits.
    assert (
        chat.say("hello? anyone there?")
        == "A colleague has your conversation and will reply here."
    )
    assert chat.say("hello??") == ""
    assert len(handoffs.requests) == 1
    stored = select(func.count()).select_from(Message).where(Message.sender == "customer")
    assert count(uow, stored) == 3, "every message is stored for the desk"


def test_two_misunderstandings_in_a_row_hand_off_in_chinese(uow, web_chat, handoffs):
    chat = web_chat("zh-CN")
    chat.say("🙂🙂")
    assert not handoffs.requests
    answer = chat.say("？？？")
    assert "人工客服" in answer
    assert handoffs.requests[0].category == "fallback"


def test_a_complaint_is_a_high_priority_ticket(uow, web_chat, handoffs):
    chat = web_chat("zh-CN")
    chat.say("你们的服务太差了，等了三天都没人处理，我要投诉到消协！")
    (request,) = handoffs.requests
    assert (request.category, request.priority) == ("complaint", "high")
    assert "消协" in request.details["text"]


def test_wrong_account_details_are_collected_for_a_ticket(uow, suppliers, web_chat, handoffs):
    topup_shop(uow, suppliers)
    chat = web_chat("en")
    chat.say(f"I typed the wrong phone number on {TOPUP_ORDER}")
    assert "correct account" in chat.say(EMAIL)
    chat.say("the right number is 13900139000")
    (request,) = handoffs.requests
    assert request.category == "wrong_account" and request.order_no == TOPUP_ORDER
    assert "13900139000" in request.details["text"]


def test_a_confident_faq_answer_asks_for_feedback_that_is_stored(uow, web_chat):
    chat = web_chat("en")
    answer = chat.say("how do I redeem a steam wallet code?")
    assert "Did this help?" in answer
    chat.tap("Yes, thanks")
    assert count(uow, select(func.count()).select_from(Feedback).where(Feedback.helpful)) == 1


def test_an_unanswerable_question_offers_a_person(uow, web_chat, handoffs):
    chat = web_chat("en")
    chat.say("what is the capital of mongolia's second largest province in 1820")
    assert "Talk to a person" in chat.buttons or "person" in chat.text


def test_typing_no_after_a_faq_answer_is_feedback_too(uow, web_chat):
    chat = web_chat("en")
    chat.say("how do I redeem a steam wallet code?")
    assert "Did this help?" in chat.text
    assert "colleague" in chat.say("no")
    assert (
        count(uow, select(func.count()).select_from(Feedback).where(Feedback.helpful.is_(False)))
        == 1
    )
