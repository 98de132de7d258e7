from __future__ import annotations

import pytest
from pydantic import SecretStr

from fulfilment.keyvault import KeyVault
from kamidesk.settings import Settings


def _ready(**overrides):
    values = dict(
        key_encryption_key=SecretStr(KeyVault.generate_key()),
        shop_api_token=SecretStr("s" * 20),
        staff_api_token=SecretStr("t" * 20),
        payment_secret=SecretStr("p" * 20),
    )
    return Settings(**{**values, **overrides})


def test_production_refuses_to_start_with_a_placeholder_secret():
    with pytest.raises(RuntimeError, match="STAFF_API_TOKEN"):
        _ready(staff_api_token=SecretStr("change-me")).check_production_ready()


def test_production_refuses_a_malformed_encryption_key():
    with pytest.raises(RuntimeError, match="KEY_ENCRYPTION_KEY"):
        _ready(key_encryption_key=SecretStr("short")).check_production_ready()


def test_real_secrets_pass_and_demo_mode_accepts_placeholders():
    _ready().check_production_ready()
    Settings(demo_mode=True).check_production_ready()


def test_secrets_do_not_show_in_the_settings_repr():
    settings = _ready(staff_api_token=SecretStr("very-secret-token"))
    assert "very-secret-token" not in repr(settings)
