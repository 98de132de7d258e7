"""Domain events of the fulfilment core (see `fulfilment.events.base` for how they travel).

with uow:
    ...
    uow.record(KeyDelivered(order_no=..., ...), actor=actor)
    uow.commit()   # audit entry + outbox row in the same transaction, then on_commit
"""

from fulfilment.events.aftersales import (
    KeyReissued,
    KeysRevealed,
    OrderRefunded,
    OrderRefunding,
    OwnershipProofFailed,
    RefundApproved,
    RefundAwaitingApproval,
    RefundFailed,
    RefundPaid,
    RefundPending,
    RefundRejected,
    RefundRequested,
    ReissueGranted,
    ReissueNeedsReview,
    ReissueRejected,
    ReissueRequested,
)
from fulfilment.events.base import AuditRecord, Event, UnknownEvent
from fulfilment.events.catalog import (
    KeysImported,
    ProductCreated,
    ProductPaused,
    ProductResumed,
    ProductStatusSet,
    SupplierCreated,
    SupplierLinked,
)
from fulfilment.events.delivery import (
    KeyDelivered,
    OrderDelivered,
    OrderWaitingForStock,
    StockLow,
    SupplierUnreachable,
    TopupAnswered,
    TopupContradicted,
    TopupFailed,
    TopupSubmitting,
    TopupSucceeded,
    TopupSucceededLate,
)
from fulfilment.events.orders import (
    OrderCreated,
    OrderPaid,
    OrderRejected,
    PaymentConfirmRefused,
    PaymentDuplicated,
    PaymentRejected,
)

__all__ = [
    "AuditRecord",
    "Event",
    "KeyDelivered",
    "KeyReissued",
    "KeysImported",
    "KeysRevealed",
    "OrderCreated",
    "OrderDelivered",
    "OrderPaid",
    "OrderRefunded",
    "OrderRefunding",
    "OrderRejected",
    "OrderWaitingForStock",
    "OwnershipProofFailed",
    "PaymentConfirmRefused",
    "PaymentDuplicated",
    "PaymentRejected",
    "ProductCreated",
    "ProductPaused",
    "ProductResumed",
    "ProductStatusSet",
    "RefundApproved",
    "RefundAwaitingApproval",
    "RefundFailed",
    "RefundPaid",
    "RefundPending",
    "RefundRejected",
    "RefundRequested",
    "ReissueGranted",
    "ReissueNeedsReview",
    "ReissueRejected",
    "ReissueRequested",
    "StockLow",
    "SupplierCreated",
    "SupplierLinked",
    "SupplierUnreachable",
    "TopupAnswered",
    "TopupContradicted",
    "TopupFailed",
    "TopupSubmitting",
    "TopupSucceeded",
    "TopupSucceededLate",
    "UnknownEvent",
]
