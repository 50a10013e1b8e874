"""The per-profile token store: one private file per signed-in account on the device."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from skinvault_client.profiles import DEFAULT_PROFILE, Profile, ProfileError, ProfileJournal, ProfileStore, check_profile_name, default_home


def _profile(name: str, token: str, *, expires_in: float = 3600, sub: str | None = None) -> Profile:
    return Profile(name=name, api="http://127.0.0.1:7071", access_token=token, expires_at=time.time() + expires_in, sub=sub or name)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_saved_profile_is_readable_by_its_owner_only(tmp_path):
    store = ProfileStore(tmp_path / "home")
    path = store.save(_profile("default", "tok-default"))
    assert path == tmp_path / "home" / "profiles" / "default.json"
    assert _mode(path) == 0o600
    assert _mode(tmp_path / "home") == 0o700
    assert _mode(tmp_path / "home" / "profiles") == 0o700
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # atomic write leaves no temp file


def test_profiles_keep_separate_tokens(tmp_path):
    store = ProfileStore(tmp_path)
    store.save(_profile("me", "token-for-me"))
    store.save(_profile("mum", "token-for-mum"))
    assert store.load("me").access_token == "token-for-me"
    assert store.load("mum").access_token == "token-for-mum"
    assert store.names() == ["me", "mum"]


def test_sign_out_deletes_only_that_profiles_file(tmp_path):
    store = ProfileStore(tmp_path)
    store.save(_profile("me", "token-for-me"))
    store.save(_profile("mum", "token-for-mum"))
    assert store.delete("mum") is True
    assert not store.path_for("mum").exists()
    assert store.load("mum") is None
    assert store.load("me").access_token == "token-for-me"
    assert store.delete("mum") is False  # signing out twice is not an error


def test_home_comes_from_skinvault_home_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SKINVAULT_HOME", str(tmp_path / "elsewhere"))
    assert default_home() == tmp_path / "elsewhere"
    ProfileStore().save(_profile(DEFAULT_PROFILE, "t"))
    assert (tmp_path / "elsewhere" / "profiles" / "default.json").exists()


def test_home_defaults_to_dot_skinvault_in_the_users_home(monkeypatch, tmp_path):
    monkeypatch.delenv("SKINVAULT_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_home() == tmp_path / ".skinvault"


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden", "x" * 65, "with space", "trailing.", "-dash"])
def test_profile_names_that_could_escape_the_store_are_refused(name):
    with pytest.raises(ProfileError):
        check_profile_name(name)


@pytest.mark.parametrize("name", ["default", "mum", "child-2", "work.phone", "A_1"])
def test_ordinary_profile_names_are_accepted(name):
    assert check_profile_name(name) == name


def test_loosened_permissions_are_tightened_when_read(tmp_path):
    store = ProfileStore(tmp_path)
    path = store.save(_profile("me", "t"))
    path.chmod(0o644)
    assert store.load("me").access_token == "t"
    assert _mode(path) == 0o600


def test_token_never_appears_in_repr(tmp_path):
    profile = _profile("me", "very-secret-token-value")
    assert "very-secret-token-value" not in repr(profile)


def test_profile_expiry_has_a_safety_margin():
    assert _profile("me", "t", expires_in=3600).expired() is False
    assert _profile("me", "t", expires_in=10).expired() is True  # about to expire counts as expired
    assert _profile("me", "t", expires_in=-5).expired() is True


def test_damaged_profile_file_gives_a_plain_error(tmp_path):
    store = ProfileStore(tmp_path)
    path = store.save(_profile("me", "t"))
    path.write_text("{not json")
    with pytest.raises(ProfileError, match="damaged"):
        store.load("me")


def test_profile_file_holds_what_it_should(tmp_path):
    store = ProfileStore(tmp_path)
    path = store.save(_profile("me", "tok", sub="alice"))
    data = json.loads(path.read_text())
    assert data["accessToken"] == "tok" and data["sub"] == "alice" and data["api"] == "http://127.0.0.1:7071"
    assert data["pendingUploads"] == {}


def test_upload_journal_lives_in_the_profile_and_goes_with_sign_out(tmp_path):
    store = ProfileStore(tmp_path)
    store.save(_profile("me", "tok"))
    store.save(_profile("mum", "tok2"))
    journal = ProfileJournal(store, "me")
    journal.put("fld-1:abc", {"imageId": "img-1", "sent": False})
    assert journal.get("fld-1:abc") == {"imageId": "img-1", "sent": False}
    assert ProfileJournal(store, "mum").get("fld-1:abc") is None  # journals are per profile
    assert store.load("me").access_token == "tok"  # writing the journal keeps the token
    journal.remove("fld-1:abc")
    assert journal.get("fld-1:abc") is None
    journal.put("fld-1:def", {"imageId": "img-2"})
    store.delete("me")
    with pytest.raises(ProfileError):
        journal.get("fld-1:def")


def test_saving_replaces_a_damaged_profile_file(tmp_path):
    store = ProfileStore(tmp_path)
    store.path_for("me").parent.mkdir(parents=True)
    store.path_for("me").write_text("garbage")
    store.save(_profile("me", "fresh"))
    assert store.load("me").access_token == "fresh"
