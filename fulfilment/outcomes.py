"""The statuses and reason codes that service outcomes carry (what the bot, the desk and the
API render). Values are the JSON the API has always answered; they compare equal to plain text.
"""

from __future__ import annotations

from enum import StrEnum


class DeliveryState(StrEnum):
    """Where a delivery (card keys or a top-up) stands after a pass."""

    DELIVERED = "delivered"
    WAITING_STOCK = "waiting_stock"  # some card keys are still owed
    IN_PROGRESS = "in_progress"  # a top-up is with a supplier
    FAILED = "failed"  # every supplier failed: refundable
    NOT_DELIVERABLE = "not_deliverable"  # unpaid, refunded, cancelled


class PaymentState(StrEnum):
    PAID = "paid"  # marked paid now
    ALREADY_PAID = "already_paid"
    NOT_PAID = "not_paid"
    UNKNOWN = "unknown"  # the provider could not say


class ReissueState(StrEnum):
    REISSUED = "reissued"
    WAITING_STOCK = "waiting_stock"  # reissued; the fresh key comes with the next stock
    REJECTED = "rejected"
    NEEDS_REVIEW = "needs_review"  # a person decides
    CHECK_UNAVAILABLE = "check_unavailable"  # the supplier could not check yet: retried


class ReissueCode(StrEnum):
    """Why a reissue request ended as it did."""

    KEY_BAD = "key_bad"  # the supplier confirms the key was bad when delivered
    OVERRIDE = "override"  # staff reissued without a confirmation
    UNCHECKED_POLICY = "unchecked_policy"  # the supplier cannot check; policy allows it
    KEY_VALID = "key_valid"
    REDEEMED_AFTER_DELIVERY = "redeemed_after_delivery"
    REDEEMED_NEAR_DELIVERY = "redeemed_near_delivery"  # too close to the delivery to tell
    CANNOT_VERIFY = "cannot_verify"
    LIMIT_ORDER = "limit_order"
    LIMIT_CUSTOMER = "limit_customer"
    ALREADY_REPLACED = "already_replaced"  # the key was replaced by another request
    CHECK_UNAVAILABLE = "check_unavailable"


class RefundCode(StrEnum):
    """Why a refund stands where it does (a refusal's reason, or its status)."""

    SUCCEEDED = "succeeded"
    PROCESSING = "processing"
    FAILED = "failed"  # the provider refused the payout
    OVER_AUTO_LIMIT = "over_auto_limit"  # waits for a person's approval
    KEY_USED = "key_used"
    REDEEMED_NEAR_DELIVERY = "redeemed_near_delivery"  # maybe bad on delivery: a person decides
    CHECK_UNAVAILABLE = "check_unavailable"
    NOT_PAID = "not_paid"
    PARTLY_DELIVERED = "partly_delivered"
    DELIVERY_IN_PROGRESS = "delivery_in_progress"
    DELIVERED_TOPUP = "delivered_topup"
    NOT_CHECKED = "not_checked"
    ORDER_STATE = "order_state"
    EXCEEDS_PAID = "exceeds_paid"
    NOTHING_TO_REFUND = "nothing_to_refund"
