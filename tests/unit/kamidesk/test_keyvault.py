from __future__ import annotations

import pytest

from fulfilment.keyvault import KeyVault, KeyVaultError, mask


def test_a_key_round_trips_and_the_ciphertext_does_not_contain_it():
    vault = KeyVault(KeyVault.generate_key())
    token = vault.encrypt("ABCD-EFGH-IJKL-MNOP")
    assert b"ABCD" not in token
    assert vault.decrypt(token) == "ABCD-EFGH-IJKL-MNOP"


def test_fingerprints_ignore_case_and_spacing_but_differ_between_vaults():
    one, two = KeyVault(KeyVault.generate_key()), KeyVault(KeyVault.generate_key())
    assert one.fingerprint("abcd efgh") == one.fingerprint(" ABCDEFGH ")
    assert one.fingerprint("ABCDEFGH") != two.fingerprint("ABCDEFGH")


def test_exact_fingerprints_tell_case_apart_but_still_ignore_spacing():
    vault = KeyVault(KeyVault.generate_key())
    exact = vault.fingerprint("abcd efgh", case_sensitive=True)
    assert exact == vault.fingerprint(" abcdefgh\t", case_sensitive=True)
    assert exact != vault.fingerprint("ABCDEFGH", case_sensitive=True)
    # An upper-case key has one fingerprint in either mode (redaction relies on it).
    assert vault.fingerprint("ABCDEFGH", case_sensitive=True) == vault.fingerprint("abcdefgh")


def test_another_vault_cannot_decrypt():
    token = KeyVault(KeyVault.generate_key()).encrypt("SECRET-1")
    with pytest.raises(KeyVaultError):
        KeyVault(KeyVault.generate_key()).decrypt(token)


def test_a_malformed_encryption_key_is_refused():
    with pytest.raises(KeyVaultError):
        KeyVault("not-a-fernet-key")


def test_masking_shows_only_the_last_four_characters():
    assert mask("abcd-efgh-ijkl-7f3k") == "****7F3K"
