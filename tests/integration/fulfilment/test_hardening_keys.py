"""Issue 10: importing keys - the same keys into two products at once, case, and size."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from fulfilment.actors import Actor
from fulfilment.errors import Conflict, TooLarge
from fulfilment.models import CardKey
from fulfilment.services import catalog, inventory
from tests.factories import card_product

KEYS = [f"DUPE-{n:04d}-KEY-WXYZ" for n in range(5)]


def stock(uow, sku: str) -> int:  # type: ignore[no-untyped-def]
    return catalog.get_product(uow=uow, sku=sku).stock


def stored(uow) -> int:  # type: ignore[no-untyped-def]
    with uow:
        return uow.session.scalar(select(func.count()).select_from(CardKey)) or 0


@pytest.fixture
def two_products(uow):  # type: ignore[no-untyped-def]
    card_product(uow, sku="STEAM-50", keys=0, supplier=None)
    card_product(uow, sku="STEAM-100", keys=0, supplier=None)


def assert_names_the_keys_masked(conflict: Conflict, keys: list[str]) -> None:
    assert conflict.code == "duplicate_keys"
    for key in keys:
        assert key not in conflict.message and key.split("-")[1] not in conflict.message
        assert f"****{key[-4:]}" in conflict.message


def test_two_simultaneous_imports_of_the_same_keys_into_two_products_one_is_a_conflict(
    uow, two_products, monkeypatch
):
    checked = inventory._fresh_keys  # where the import checks its keys
    first_checked, second_done = threading.Event(), threading.Event()

    def first_waits_after_its_check(uow, keys, product):  # type: ignore[no-untyped-def]
        found = checked(uow, keys, product)
        if product.sku == "STEAM-50":  # both pass the check before either inserts
            first_checked.set()
            second_done.wait(timeout=3)  # SQLite: the second waits for our lock instead
        return found

    monkeypatch.setattr(inventory, "_fresh_keys", first_waits_after_its_check)

    def run(sku: str) -> object:
        if sku == "STEAM-100":
            first_checked.wait(timeout=10)
        try:
            return catalog.import_keys(uow=uow.fork(), sku=sku, keys=KEYS, actor=Actor.shop())
        except Conflict as exc:
            return exc
        finally:
            if sku == "STEAM-100":
                second_done.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, ["STEAM-50", "STEAM-100"]))
    [conflict] = [r for r in results if isinstance(r, Conflict)]
    [imported] = [r for r in results if isinstance(r, catalog.ImportResult)]
    assert imported.imported == len(KEYS)
    assert_names_the_keys_masked(conflict, KEYS)
    assert sorted([stock(uow, "STEAM-50"), stock(uow, "STEAM-100")]) == [0, len(KEYS)]
    assert stored(uow) == len(KEYS)


def test_keys_of_another_product_are_refused_and_nothing_of_the_batch_is_imported(
    uow, two_products
):
    catalog.import_keys(uow=uow, sku="STEAM-50", keys=KEYS[:2], actor=Actor.shop())
    with pytest.raises(Conflict) as refused:
        catalog.import_keys(
            uow=uow, sku="STEAM-100", keys=["FRESH-0001-ABCD", *KEYS], actor=Actor.system("x")
        )
    assert_names_the_keys_masked(refused.value, KEYS[:2])
    assert "(STEAM-50)" in refused.value.message
    assert stock(uow, "STEAM-100") == 0


def test_importing_the_same_keys_into_the_same_product_again_skips_them(uow, two_products):
    catalog.import_keys(uow=uow, sku="STEAM-50", keys=KEYS[:2], actor=Actor.shop())
    again = catalog.import_keys(uow=uow, sku="STEAM-50", keys=KEYS, actor=Actor.shop())
    assert (again.imported, again.duplicates, again.stock) == (3, 2, 5)


def test_keys_differing_only_in_case_are_different_keys_unless_the_product_says_otherwise(uow):
    spellings = ["abcd-efgh-2345-wxyz", "ABCD-EFGH-2345-WXYZ", "Abcd-Efgh-2345-Wxyz"]
    card_product(uow, sku="EXACT", keys=0, supplier=None)
    exact = catalog.import_keys(uow=uow, sku="EXACT", keys=spellings, actor=Actor.shop())
    assert (exact.imported, exact.duplicates) == (3, 0)
    catalog.create_product(
        uow=uow,
        sku="ANYCASE",
        name="Any case",
        kind="card_key",
        face_value=Decimal("10"),
        price=Decimal("10.00"),
        currency="CNY",
        keys_case_sensitive=False,
        actor=Actor.shop(),
    )
    other = ["qrst-uvwx-6789-abcd", "QRST-UVWX-6789-ABCD", " QRST-uvwx-6789-abcd\t"]
    loose = catalog.import_keys(uow=uow, sku="ANYCASE", keys=other, actor=Actor.shop())
    assert (loose.imported, loose.duplicates) == (1, 2)
    assert catalog.get_product(uow=uow, sku="EXACT").keys_case_sensitive is True
    assert catalog.get_product(uow=uow, sku="ANYCASE").keys_case_sensitive is False


def test_a_product_from_before_the_setting_keeps_matching_keys_in_any_case(uow):
    with uow:  # a row as the database held it before migration f0003
        uow.session.execute(
            text(
                "INSERT INTO products (sku, name, kind, face_value_cents, price_cents, currency,"
                " safety_stock, status, created_at) VALUES ('OLD-1', 'Old', 'card_key', 1000,"
                " 1000, 'CNY', 0, 'active', CURRENT_TIMESTAMP)"
            )
        )
        uow.commit()
    result = catalog.import_keys(
        uow=uow, sku="OLD-1", keys=["old-key-0001", "OLD-KEY-0001"], actor=Actor.system("x")
    )
    assert (result.imported, result.duplicates) == (1, 1)


def test_more_keys_than_one_import_may_carry_are_refused_and_nothing_changes(uow, two_products):
    keys = [f"BULK-{n:06d}-WXYZ" for n in range(catalog.MAX_KEYS_PER_IMPORT + 1)]
    with pytest.raises(TooLarge) as refused:
        catalog.import_keys(uow=uow, sku="STEAM-50", keys=iter(keys), actor=Actor.shop())
    assert refused.value.code == "too_many_keys"
    assert stored(uow) == 0
