"""Shop API: products, suppliers, key import, order intake and lookup."""

from __future__ import annotations

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Request,
    Response,
    UploadFile,
    status,
)
from starlette.concurrency import run_in_threadpool

from fulfilment.errors import InvalidRequest
from fulfilment.models import OrderStatus
from fulfilment.services import catalog, orders, queries
from kamidesk.api.deps import JobsDep, ShopCaller, UowDep, no_nul_in_url
from kamidesk.api.responses import (
    ImportOut,
    IntakeOut,
    OrderOut,
    ProductCreatedOut,
    ProductOut,
    SupplierOut,
)
from kamidesk.api.schemas import KeysIn, OrderIn, ProductIn, SupplierIn
from kamidesk.observability.logs import bind_order

router = APIRouter(prefix="/api/v1", tags=["shop"], dependencies=[Depends(no_nul_in_url)])
# The key-file upload, included with a body limit of its own (MAX_KEY_FILE_BYTES).
uploads = APIRouter(prefix="/api/v1", tags=["shop"], dependencies=[Depends(no_nul_in_url)])


@router.post("/suppliers", status_code=status.HTTP_201_CREATED)
async def create_supplier(body: SupplierIn, uow: UowDep, caller: ShopCaller) -> SupplierOut:
    """Register a supplier (idempotent on its code)."""
    supplier = await run_in_threadpool(
        lambda: catalog.add_supplier(
            uow=uow,
            code=body.code,
            name=body.name,
            supports_key_check=body.supports_key_check,
            actor=caller,
        )
    )
    return SupplierOut.model_validate(supplier)


@router.post("/products", status_code=status.HTTP_201_CREATED)
async def create_product(body: ProductIn, uow: UowDep, caller: ShopCaller) -> ProductCreatedOut:
    """Create a product with its suppliers in priority order (all or nothing)."""
    links = [catalog.SupplierLink(s.code, s.priority, s.product_code) for s in body.suppliers]
    product = await run_in_threadpool(
        lambda: catalog.create_product(
            uow=uow,
            sku=body.sku,
            name=body.name,
            kind=body.kind,
            face_value=body.face_value,
            price=body.price,
            currency=body.currency,
            safety_stock=body.safety_stock,
            suppliers=links,
            keys_case_sensitive=body.keys_case_sensitive,
            actor=caller,
        )
    )
    return ProductCreatedOut.model_validate(product)


@router.get("/products/{sku}")
async def get_product(sku: str, uow: UowDep, caller: ShopCaller) -> ProductOut:
    """A product with its available stock."""
    view = await run_in_threadpool(lambda: catalog.get_product(uow=uow, sku=sku))
    return ProductOut.model_validate(view)


@router.post("/products/{sku}/keys")
async def import_keys(sku: str, body: KeysIn, uow: UowDep, caller: ShopCaller) -> ImportOut:
    """Import card keys (JSON list); duplicates are counted and skipped."""
    result = await run_in_threadpool(
        lambda: catalog.import_keys(
            uow=uow,
            sku=sku,
            keys=body.keys,
            actor=caller,
            supplier_code=body.supplier_code,
            batch=body.batch,
        )
    )
    return ImportOut.model_validate(result)


@uploads.post("/products/{sku}/keys/file")
async def import_key_file(
    sku: str,
    request: Request,
    uow: UowDep,
    caller: ShopCaller,
    file: UploadFile = File(...),
    supplier_code: str | None = Form(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$"),
    batch: str | None = Form(default=None, max_length=64, pattern=r"^[^\x00]*$"),
) -> ImportOut:
    """Import card keys from a text file, one key per line (at most 10,000 keys: 413 beyond;
    `kamidesk keys import` takes files of any size in batches)."""
    cap = request.app.state.container.settings.max_key_file_bytes
    raw = await file.read(cap + 1)
    if len(raw) > cap:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"key file larger than {cap} bytes")
    try:
        lines = [line for line in raw.decode("utf-8-sig").splitlines() if line.strip()]
    except UnicodeDecodeError as exc:
        raise InvalidRequest("key file must be UTF-8 text") from exc
    if not lines:
        raise InvalidRequest("key file has no keys")
    result = await run_in_threadpool(
        lambda: catalog.import_keys(
            uow=uow, sku=sku, keys=lines, actor=caller, supplier_code=supplier_code, batch=batch
        )
    )
    return ImportOut.model_validate(result)


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": IntakeOut, "description": "taken in before (same order again)"}},
)
async def create_order(
    body: OrderIn, response: Response, uow: UowDep, caller: ShopCaller, jobs: JobsDep
) -> IntakeOut:
    """Ingest an order (idempotent on order_no); paid orders are delivered in the background."""
    bind_order(body.order_no)  # logs of this request name the order
    data = orders.OrderInput(
        order_no=body.order_no,
        sku=body.sku,
        quantity=body.quantity,
        amount=body.amount,
        currency=body.currency,
        buyer_email=body.buyer_email,
        buyer_phone=body.buyer_phone,
        buyer_telegram_id=body.buyer_telegram_id,
        recharge_account=body.recharge_account,
    )
    outcome = await run_in_threadpool(
        lambda: orders.ingest_order(
            uow=uow, data=data, paid=body.paid, actor=caller, txn_id=body.payment_txn_id
        )
    )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
        if outcome.status == OrderStatus.PAID:
            # The shop sent the order again while it waits for delivery: nudge the runner.
            # (A new paid order is delivered because its OrderPaid event says so.)
            await jobs.trigger_delivery(body.order_no)
    view = await run_in_threadpool(lambda: queries.get_order(uow=uow, order_no=body.order_no))
    return IntakeOut(created=outcome.created, order=OrderOut.model_validate(view))


@router.get("/orders/{order_no}")
async def get_order(order_no: str, uow: UowDep, caller: ShopCaller) -> OrderOut:
    """An order with its deliveries; keys are masked."""
    view = await run_in_threadpool(lambda: queries.get_order(uow=uow, order_no=order_no))
    return OrderOut.model_validate(view)
