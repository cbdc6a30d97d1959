"""Sealing secret environment values (networks/sealing.py): round trip, rotation, and what is stored."""

import pytest
from cryptography.fernet import Fernet

from networks.sealing import (
    SecretUnreadable,
    environment_forget,
    environment_open,
    environment_seal,
    secret_open,
    secret_rotate,
    secret_seal,
)

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_sealed_value_opens_only_with_its_key():
    sealed = secret_seal("my-root-pw", keys=[OLD])
    assert "my-root-pw" not in sealed
    assert secret_open(sealed, keys=[OLD]) == "my-root-pw"
    with pytest.raises(SecretUnreadable, match="PORTAL_SECRETS_KEYS"):
        secret_open(sealed, keys=[NEW])


def test_rotation_new_key_first_opens_old_values_and_reseals_them_with_the_new_key():
    sealed_old = secret_seal("my-root-pw", keys=[OLD])
    rotated_keys = [NEW, OLD]
    assert secret_open(sealed_old, keys=rotated_keys) == "my-root-pw"  # nothing breaks while both are set
    assert secret_open(secret_seal("fresh", keys=rotated_keys), keys=[NEW]) == "fresh"  # the first key seals

    resealed = secret_rotate(sealed_old, keys=rotated_keys)
    assert secret_open(resealed, keys=[NEW]) == "my-root-pw"  # the old key can now be dropped
    with pytest.raises(SecretUnreadable):
        secret_open(resealed, keys=[OLD])


def test_rows_keep_secrets_sealed_until_opened_then_only_their_names(settings):
    settings.PORTAL_SECRETS_KEYS = [NEW]
    rows = [
        {"name": "HOST", "value": "mysql", "secret": False},
        {"name": "PASSWORD", "value": "my-root-pw", "secret": True},
    ]
    stored = environment_seal(rows)
    assert "my-root-pw" not in repr(stored) and stored[0] == rows[0] and stored[1]["value"] == ""
    assert environment_open(stored) == {"HOST": "mysql", "PASSWORD": "my-root-pw"}
    assert environment_forget(stored) == [rows[0], {"name": "PASSWORD", "value": "", "secret": True}]


def test_a_clusters_key_and_token_are_opened_once_per_process_whatever_row_holds_them(monkeypatch):
    from networks.models import Cluster
    from networks.models import cluster as cluster_module

    opened = []

    def counted(sealed: str) -> str:
        opened.append(sealed)
        return secret_open(sealed)

    monkeypatch.setattr(cluster_module, "secret_open", counted)
    key, token = secret_seal("the-key"), secret_seal("the-token")
    for _ in range(3):  # each operation's run reads its cluster's row anew
        row = Cluster(tls_ca="ca", tls_cert="cert", tls_key_sealed=key, consul_token_sealed=token)
        assert row.tls.key_pem == "the-key" and row.consul.token == "the-token"
    assert sorted(opened) == sorted([key, token])
    resealed = secret_seal("the-new-key")  # a new key given: opened as such
    assert Cluster(tls_ca="ca", tls_cert="cert", tls_key_sealed=resealed).tls.key_pem == "the-new-key"
    unreadable = secret_seal("lost", keys=[OLD])  # what no key opens is not kept: it fails every time
    for _ in range(2):
        with pytest.raises(SecretUnreadable):
            assert Cluster(tls_ca="ca", tls_cert="cert", tls_key_sealed=unreadable).tls
    assert opened.count(unreadable) == 2
