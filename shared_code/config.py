"""Settings: one frozen object read from the environment at start-up.

Names are UPPER_SNAKE and match the Function App's app settings in infra/bicep. A missing or
malformed setting raises SettingsError naming it, at start-up, never at the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared_code.auth.dev_issuer import is_loopback_url


class SettingsError(Exception):
    pass


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str  # str | int | bool | choice
    required: bool = True
    choices: tuple[str, ...] = ()
    description: str = ""
    # Only read when this other setting has this value (e.g. COSMOS_* when METADATA_STORE=cosmos).
    when: tuple[str, str] | None = None


# Every setting the code reads. infra/bicep's Function App module must set each one (tested).
SPEC: tuple[Setting, ...] = (
    Setting("SKINVAULT_ENVIRONMENT", "choice", choices=("local", "dev", "prod"), description="Deployment environment name."),
    Setting("PUBLIC_BASE_URL", "str", description="Base URL of the clinician web app, used for sign-in links in emails."),
    # storage (blob + queue): a connection string locally, identity-based in Azure
    Setting("STORAGE", "str", required=False, description="Storage connection string (Azurite locally). Not used in Azure."),
    Setting("STORAGE__blobServiceUri", "str", required=False, description="Blob endpoint for identity-based access (Azure)."),
    Setting("STORAGE__queueServiceUri", "str", required=False, description="Queue endpoint for identity-based access (Azure)."),
    Setting("STORAGE__clientId", "str", required=False, description="Client id of the user-assigned managed identity (Azure)."),
    # the ingest account phones upload to with a one-blob SAS (reachable from the internet; nothing else lives there)
    Setting("UPLOADS_STORAGE", "str", required=False, description="Upload (ingest) storage connection string (Azurite locally). Not used in Azure."),
    Setting(
        "UPLOADS_STORAGE__blobServiceUri", "str", required=False, description="Blob endpoint of the upload (ingest) account, identity-based (Azure)."
    ),
    # metadata
    Setting("METADATA_STORE", "choice", choices=("sqlite", "cosmos"), description="Which metadata store adapter to use."),
    Setting("SQLITE_PATH", "str", when=("METADATA_STORE", "sqlite"), description="SQLite file for the embedded store."),
    Setting("COSMOS__accountEndpoint", "str", when=("METADATA_STORE", "cosmos"), description="Cosmos DB account endpoint."),
    Setting("COSMOS_DATABASE", "str", when=("METADATA_STORE", "cosmos"), description="Cosmos DB database name."),
    Setting("COSMOS_KEY", "str", required=False, description="Emulator key for local tests only; Azure uses the managed identity."),
    # keys
    Setting("KEK_PROVIDER", "choice", choices=("local", "keyvault"), description="Where the key-encryption key lives."),
    Setting("KEK_PEM_PATH", "str", when=("KEK_PROVIDER", "local"), description="Local RSA KEK (PEM, created on first run)."),
    Setting("KEY_VAULT_URI", "str", when=("KEK_PROVIDER", "keyvault"), description="Key Vault URI holding the KEK."),
    Setting("KEK_NAME", "str", when=("KEK_PROVIDER", "keyvault"), description="Name of the RSA-HSM key in Key Vault."),
    # email
    Setting("EMAIL_SENDER", "choice", choices=("outbox", "acs"), description="outbox writes .eml files; acs sends via Azure Communication Services."),
    Setting("EMAIL_OUTBOX_DIR", "str", when=("EMAIL_SENDER", "outbox"), description="Folder for .eml files locally."),
    Setting("ACS_ENDPOINT", "str", when=("EMAIL_SENDER", "acs"), description="Communication Services endpoint."),
    Setting("EMAIL_FROM_ADDRESS", "str", description="Sender address of notification emails."),
    # identity
    Setting("AUTH_PATIENT_ISSUER", "str", description="OIDC issuer of patient tokens (NHS login / Entra External ID)."),
    Setting("AUTH_PATIENT_AUDIENCE", "str", description="Audience patient tokens must carry."),
    Setting("AUTH_PATIENT_JWKS_URI", "str", description="JWKS URI of the patient issuer."),
    Setting("AUTH_STAFF_ISSUER", "str", description="OIDC issuer of clinician/admin tokens (Entra ID)."),
    Setting("AUTH_STAFF_AUDIENCE", "str", description="Audience staff tokens must carry."),
    Setting("AUTH_STAFF_JWKS_URI", "str", description="JWKS URI of the staff issuer."),
    Setting("AUTH_CLINICIAN_ROLE", "str", description="App role that marks a clinician."),
    Setting("AUTH_ADMIN_ROLE", "str", description="App role that marks an admin."),
    Setting("DEV_ISSUER_ENABLED", "bool", description="Local only: enables POST /api/dev/token. Refused in Azure."),
    Setting("DEV_ISSUER_KEY_PATH", "str", when=("DEV_ISSUER_ENABLED", "true"), description="Dev issuer signing key (git-ignored)."),
    # limits
    Setting("MAX_REQUEST_BODY_BYTES", "int", description="Largest JSON request body accepted (413 beyond)."),
    Setting("MAX_UPLOAD_BYTES", "int", description="Largest photo a patient may upload."),
    Setting("MAX_IMAGE_PIXELS", "int", description="Largest decoded image in pixels (decompression-bomb cap)."),
    Setting("UPLOAD_URL_MINUTES", "int", description="Lifetime of an upload SAS URL (at most 15)."),
    Setting("NOTIFICATION_WINDOW_MINUTES", "int", description="At most one new-photos email per case per window."),
    Setting("EXPORT_TTL_HOURS", "int", description="How long an export package is kept."),
    # telemetry (issue 18): traces to Application Insights in Azure, optionally to the console or a file locally
    Setting("APPLICATIONINSIGHTS_CONNECTION_STRING", "str", required=False, description="Application Insights: traces, logs and metrics (Azure)."),
    Setting(
        "TRACE_EXPORTER",
        "choice",
        required=False,
        choices=("none", "console", "file"),
        when=("SKINVAULT_ENVIRONMENT", "local"),
        description="Local only: print spans to the console or append them to TRACE_FILE (default none).",
    ),
    Setting("TRACE_FILE", "str", when=("TRACE_EXPORTER", "file"), description="Local only: file the spans are appended to (JSON lines)."),
)

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass(frozen=True)
class Settings:
    environment: str
    public_base_url: str
    storage_connection_string: str | None
    storage_blob_uri: str | None
    storage_queue_uri: str | None
    storage_client_id: str | None
    uploads_connection_string: str | None
    uploads_blob_uri: str | None
    metadata_store: str
    sqlite_path: str | None
    cosmos_endpoint: str | None
    cosmos_database: str | None
    cosmos_key: str | None
    kek_provider: str
    kek_pem_path: str | None
    key_vault_uri: str | None
    kek_name: str | None
    email_sender: str
    email_outbox_dir: str | None
    acs_endpoint: str | None
    email_from_address: str
    patient_issuer: str
    patient_audience: str
    patient_jwks_uri: str
    staff_issuer: str
    staff_audience: str
    staff_jwks_uri: str
    clinician_role: str
    admin_role: str
    dev_issuer_enabled: bool
    dev_issuer_key_path: str | None
    max_request_body_bytes: int
    max_upload_bytes: int
    max_image_pixels: int
    upload_url_minutes: int
    notification_window_minutes: int
    export_ttl_hours: int
    running_in_azure: bool
    applicationinsights_connection_string: str | None = None
    trace_exporter: str = "none"
    trace_file: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        raw: dict[str, Any] = {}
        for s in SPEC:
            if s.when is not None:
                other, wanted = s.when
                if str(env.get(other, "")).strip().lower() != wanted:
                    raw[s.name] = None
                    continue
            value = env.get(s.name)
            if value is None or value.strip() == "":
                if s.required:
                    raise SettingsError(f"setting {s.name} is missing ({s.description})")
                raw[s.name] = None
                continue
            value = value.strip()
            if s.kind == "int":
                try:
                    parsed: Any = int(value)
                except ValueError:
                    raise SettingsError(f"setting {s.name} must be a whole number, got {value!r}") from None
                if parsed <= 0:
                    raise SettingsError(f"setting {s.name} must be positive, got {value!r}")
            elif s.kind == "bool":
                if value.lower() in _TRUE:
                    parsed = True
                elif value.lower() in _FALSE:
                    parsed = False
                else:
                    raise SettingsError(f"setting {s.name} must be true or false, got {value!r}")
            elif s.kind == "choice":
                if value.lower() not in s.choices:
                    raise SettingsError(f"setting {s.name} must be one of {', '.join(s.choices)}, got {value!r}")
                parsed = value.lower()
            else:
                parsed = value
            raw[s.name] = parsed

        if not raw["STORAGE"] and not raw["STORAGE__blobServiceUri"]:
            raise SettingsError("setting STORAGE (connection string) or STORAGE__blobServiceUri must be set")
        if raw["STORAGE__blobServiceUri"] and not raw["STORAGE"] and not raw["STORAGE__queueServiceUri"]:
            raise SettingsError("setting STORAGE__queueServiceUri must be set with STORAGE__blobServiceUri")
        if not raw["UPLOADS_STORAGE"] and not raw["UPLOADS_STORAGE__blobServiceUri"]:
            raise SettingsError("setting UPLOADS_STORAGE (connection string) or UPLOADS_STORAGE__blobServiceUri must be set")
        if raw["UPLOAD_URL_MINUTES"] > 15:
            raise SettingsError("setting UPLOAD_URL_MINUTES must be at most 15")
        running_in_azure = bool(env.get("WEBSITE_INSTANCE_ID"))
        if raw["DEV_ISSUER_ENABLED"] and running_in_azure:
            raise SettingsError("setting DEV_ISSUER_ENABLED must be false in Azure (WEBSITE_INSTANCE_ID is set)")
        if raw["DEV_ISSUER_ENABLED"] and (raw["SKINVAULT_ENVIRONMENT"] != "local" or not is_loopback_url(raw["PUBLIC_BASE_URL"])):
            raise SettingsError("setting DEV_ISSUER_ENABLED needs SKINVAULT_ENVIRONMENT=local and a loopback PUBLIC_BASE_URL (http://127.0.0.1:...)")

        return cls(
            environment=raw["SKINVAULT_ENVIRONMENT"],
            public_base_url=raw["PUBLIC_BASE_URL"].rstrip("/"),
            storage_connection_string=raw["STORAGE"],
            storage_blob_uri=raw["STORAGE__blobServiceUri"],
            storage_queue_uri=raw["STORAGE__queueServiceUri"],
            storage_client_id=raw["STORAGE__clientId"],
            uploads_connection_string=raw["UPLOADS_STORAGE"],
            uploads_blob_uri=raw["UPLOADS_STORAGE__blobServiceUri"],
            metadata_store=raw["METADATA_STORE"],
            sqlite_path=raw["SQLITE_PATH"],
            cosmos_endpoint=raw["COSMOS__accountEndpoint"],
            cosmos_database=raw["COSMOS_DATABASE"],
            cosmos_key=raw["COSMOS_KEY"],
            kek_provider=raw["KEK_PROVIDER"],
            kek_pem_path=raw["KEK_PEM_PATH"],
            key_vault_uri=raw["KEY_VAULT_URI"],
            kek_name=raw["KEK_NAME"],
            email_sender=raw["EMAIL_SENDER"],
            email_outbox_dir=raw["EMAIL_OUTBOX_DIR"],
            acs_endpoint=raw["ACS_ENDPOINT"],
            email_from_address=raw["EMAIL_FROM_ADDRESS"],
            patient_issuer=raw["AUTH_PATIENT_ISSUER"],
            patient_audience=raw["AUTH_PATIENT_AUDIENCE"],
            patient_jwks_uri=raw["AUTH_PATIENT_JWKS_URI"],
            staff_issuer=raw["AUTH_STAFF_ISSUER"],
            staff_audience=raw["AUTH_STAFF_AUDIENCE"],
            staff_jwks_uri=raw["AUTH_STAFF_JWKS_URI"],
            clinician_role=raw["AUTH_CLINICIAN_ROLE"],
            admin_role=raw["AUTH_ADMIN_ROLE"],
            dev_issuer_enabled=raw["DEV_ISSUER_ENABLED"],
            dev_issuer_key_path=raw["DEV_ISSUER_KEY_PATH"],
            max_request_body_bytes=raw["MAX_REQUEST_BODY_BYTES"],
            max_upload_bytes=raw["MAX_UPLOAD_BYTES"],
            max_image_pixels=raw["MAX_IMAGE_PIXELS"],
            upload_url_minutes=raw["UPLOAD_URL_MINUTES"],
            notification_window_minutes=raw["NOTIFICATION_WINDOW_MINUTES"],
            export_ttl_hours=raw["EXPORT_TTL_HOURS"],
            running_in_azure=running_in_azure,
            applicationinsights_connection_string=raw["APPLICATIONINSIGHTS_CONNECTION_STRING"],
            trace_exporter=raw["TRACE_EXPORTER"] or "none",
            trace_file=raw["TRACE_FILE"],
        )
