"""The pseudonymisation key: sources, strength checks, the demo key file."""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import stat

import pytest

from transforms.keys import (
    KeyError_,
    KeyFileError,
    KeyFileExistsError,
    MissingKeyError,
    PseudonymKey,
    WeakKeyError,
    create_local_key_file,
    key_from_material,
    load_key,
)

GOOD = bytes((b * 37 + 11) % 251 for b in range(32))
GOOD_HEX = GOOD.hex()


def test_good_key_material_in_every_encoding_gives_the_same_secret():
    assert key_from_material(GOOD_HEX, "v1").secret == GOOD
    assert key_from_material(GOOD_HEX.upper(), "v1").secret == GOOD
    assert key_from_material(base64.b64encode(GOOD).decode(), "v1").secret == GOOD
    assert key_from_material(base64.urlsafe_b64encode(GOOD).decode(), "v1").secret == GOOD
    assert key_from_material(GOOD, "v1").secret == GOOD


def test_repr_and_str_never_show_the_secret():
    key = key_from_material(GOOD_HEX, "v7")
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert GOOD_HEX not in text.lower()
        assert repr(GOOD) not in text
        assert "v7" in text
    assert pickle.loads(pickle.dumps(key)) == key


@pytest.mark.parametrize(
    ("material", "expected", "why"),
    [
        ("ab" * 16, WeakKeyError, "bytes"),  # 16 bytes of hex
        (os.urandom(31).hex(), WeakKeyError, "at least 32"),
        ("00" * 32, WeakKeyError, "one byte repeated"),
        ("0102" * 16, WeakKeyError, "distinct"),
        (bytes(range(32)).hex(), WeakKeyError, "counting"),
        ("abcdefghijklmnopq" * 2, WeakKeyError, "pattern"),
        ("this is my changeme key for the pipeline!", WeakKeyError, "placeholder"),
        ("", MissingKeyError, "empty"),
        ("   ", MissingKeyError, "empty"),
    ],
)
def test_weak_short_and_empty_keys_are_refused_without_echoing_them(material, expected, why):
    with pytest.raises(expected) as err:
        key_from_material(material, "v1")
    message = str(err.value)
    assert why in message
    assert "pseudonymisation_key" in message and "CARE_KEY_FILE" in message
    if material.strip():
        assert material not in message
    assert isinstance(err.value, KeyError_)


def test_load_key_order_explicit_then_env_then_file(tmp_path):
    other = bytes((b * 53 + 3) % 241 for b in range(32))
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"version": "file-v3", "key": other.hex()}))
    path.chmod(0o600)
    env = {"CARE_PSEUDONYMISATION_KEY": GOOD_HEX, "CARE_KEY_FILE": str(path)}
    explicit = bytes((b * 29 + 5) % 233 for b in range(32)).hex()
    assert load_key(explicit=explicit, env=env).secret.hex() == explicit
    assert load_key(env=env).secret == GOOD
    key = load_key(env={"CARE_KEY_FILE": str(path)})
    assert key.secret == other and key.version == "file-v3"
    assert load_key(env={**env, "CARE_KEY_VERSION": "v9"}).version == "v9"
    assert load_key(explicit=explicit, version="conn-v2", env={}).version == "conn-v2"


def test_missing_key_is_refused_with_directions():
    with pytest.raises(MissingKeyError) as err:
        load_key(env={})
    assert "pseudonymisation_key" in str(err.value)
    assert "CARE_PSEUDONYMISATION_KEY" in str(err.value)


def test_missing_key_file_is_refused(tmp_path):
    with pytest.raises(MissingKeyError, match="does not exist"):
        load_key(env={"CARE_KEY_FILE": str(tmp_path / "nope.json")})


def test_key_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"version": "v1", "key": GOOD_HEX}))
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600") as err:
        load_key(env={"CARE_KEY_FILE": str(path)})
    assert GOOD_HEX not in str(err.value)
    path.chmod(0o600)
    assert load_key(env={"CARE_KEY_FILE": str(path)}).secret == GOOD


def test_key_file_version_conflicting_with_env_is_refused(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"version": "v1", "key": GOOD_HEX}))
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="CARE_KEY_VERSION"):
        load_key(env={"CARE_KEY_FILE": str(path), "CARE_KEY_VERSION": "v2"})


def test_malformed_key_file_is_refused(tmp_path):
    path = tmp_path / "k.json"
    path.write_text('{"version": "v1", "kee": 1}')
    path.chmod(0o600)
    with pytest.raises(KeyFileError):
        load_key(env={"CARE_KEY_FILE": str(path)})


def test_weak_key_in_file_is_refused(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"version": "v1", "key": "11" * 32}))
    path.chmod(0o600)
    with pytest.raises(WeakKeyError):
        load_key(env={"CARE_KEY_FILE": str(path)})


def test_create_local_key_file_is_0600_loadable_and_never_overwritten(tmp_path, caplog):
    path = tmp_path / "secrets" / "key.json"
    with caplog.at_level(logging.WARNING, logger="transforms.keys"):
        key = create_local_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path) in caplog.text and "demo" in caplog.text.lower()
    assert key.secret.hex() not in caplog.text
    assert load_key(env={"CARE_KEY_FILE": str(path)}) == key
    before = path.read_bytes()
    with pytest.raises(KeyFileExistsError):
        create_local_key_file(path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["key.json"]  # no temp files left


def test_two_local_keys_differ(tmp_path):
    a = create_local_key_file(tmp_path / "a.json")
    b = create_local_key_file(tmp_path / "b.json")
    assert a.secret != b.secret and len(a.secret) == 32


def test_key_rejects_bad_version():
    with pytest.raises(KeyError_):
        key_from_material(GOOD_HEX, "v1; drop table")
    with pytest.raises(TypeError):
        PseudonymKey(version="v1", secret="not bytes")  # type: ignore[arg-type]
