"""Settings are read once, and a missing or malformed one fails at start-up by name."""

from __future__ import annotations

import pytest

from shared_code.config import SPEC, Settings, SettingsError
from tests.conftest import EXAMPLE_SETTINGS


def test_the_example_settings_are_complete_and_valid():
    s = Settings.from_env(EXAMPLE_SETTINGS)
    assert s.metadata_store == "sqlite" and s.dev_issuer_enabled and not s.running_in_azure


def test_every_setting_in_the_spec_is_in_the_example_file_or_conditional():
    for setting in SPEC:
        if setting.required and setting.when is None:
            assert setting.name in EXAMPLE_SETTINGS, setting.name


@pytest.mark.parametrize("name", ["PUBLIC_BASE_URL", "METADATA_STORE", "AUTH_PATIENT_ISSUER", "MAX_UPLOAD_BYTES", "SQLITE_PATH"])
def test_a_missing_setting_is_named(name):
    env = dict(EXAMPLE_SETTINGS)
    del env[name]
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_UPLOAD_BYTES", "lots"),
        ("MAX_UPLOAD_BYTES", "-5"),
        ("DEV_ISSUER_ENABLED", "maybe"),
        ("METADATA_STORE", "mongo"),
        ("UPLOAD_URL_MINUTES", "60"),
    ],
)
def test_a_malformed_setting_is_named(name, value):
    env = dict(EXAMPLE_SETTINGS, **{name: value})
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_the_dev_issuer_cannot_be_enabled_in_azure():
    env = dict(EXAMPLE_SETTINGS, WEBSITE_INSTANCE_ID="abc")
    with pytest.raises(SettingsError, match="DEV_ISSUER_ENABLED"):
        Settings.from_env(env)


def test_cosmos_settings_are_required_only_when_cosmos_is_chosen():
    env = dict(EXAMPLE_SETTINGS, METADATA_STORE="cosmos")
    with pytest.raises(SettingsError, match="COSMOS__accountEndpoint"):
        Settings.from_env(env)
    env["COSMOS__accountEndpoint"] = "https://x.documents.azure.com:443/"
    env["COSMOS_DATABASE"] = "skinvault"
    assert Settings.from_env(env).cosmos_endpoint.startswith("https://")


def test_settings_are_frozen():
    s = Settings.from_env(EXAMPLE_SETTINGS)
    with pytest.raises(AttributeError):
        s.max_upload_bytes = 1  # type: ignore[misc]
