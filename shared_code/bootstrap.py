"""The one place that builds adapters and services, once per worker. Tests pass fakes in with `override`."""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared_code import telemetry
from shared_code.adapters.traced import TracedKekProvider, TracedStore, traced
from shared_code.auth.dev_issuer import DevIssuer
from shared_code.auth.principal import CLINICIAN, PATIENT, Principal, patient_id_for
from shared_code.auth.tokens import HttpJwks, TokenValidator, TrustedIssuer
from shared_code.config import Settings
from shared_code.domain.errors import NotFoundError
from shared_code.ports import (
    EXPORTS,
    IMAGES,
    UPLOADS,
    BlobStore,
    EmailSender,
    KeyEncryptionKeyProvider,
    MessageQueue,
    MetadataStore,
    PatientDataKeys,
)
from shared_code.services import clinics, pending_work

log = logging.getLogger("skinvault.bootstrap")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Services:
    """Everything a function needs. Built once; services are cheap objects over the adapters."""

    settings: Settings
    store: MetadataStore
    blobs: BlobStore
    queue: MessageQueue
    kek: KeyEncryptionKeyProvider
    email: EmailSender
    validator: TokenValidator
    clock: Any = field(default_factory=SystemClock)
    dev_issuer: DevIssuer | None = None
    # per-patient data keys (key hierarchy); None only where tests use fakes that do not encrypt
    data_keys: PatientDataKeys | None = None

    def authenticate(self, authorization: str | None) -> Principal:
        identity = self.validator.validate(authorization)
        clinic_ids: tuple[str, ...] = ()
        if identity.kind == CLINICIAN:
            clinic_ids = tuple(clinics.clinic_ids_of_member(self.store, identity.sub))
        if identity.kind == PATIENT and pending_work.erasure_pending(self.store, patient_id_for(identity.issuer, identity.sub)):
            raise NotFoundError()  # an account being erased: every request for it answers 404
        return Principal(
            kind=identity.kind,
            sub=identity.sub,
            issuer=identity.issuer,
            name=identity.name,
            email=identity.email,
            clinic_ids=clinic_ids,
            nhs_number=identity.nhs_number,
        )


_lock = threading.Lock()
_services: Services | None = None


def build(settings: Settings) -> Services:
    """Build real adapters from settings. No network calls happen here."""
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    credential: Any = None

    def azure_credential() -> Any:
        nonlocal credential
        if credential is None:
            credential = (
                ManagedIdentityCredential(client_id=settings.storage_client_id)
                if settings.storage_client_id
                else DefaultAzureCredential(exclude_interactive_browser_credential=True)
            )
        return credential

    # keys
    kek: KeyEncryptionKeyProvider
    if settings.kek_provider == "local":
        from shared_code.adapters.local_kek import LocalKekProvider

        kek = LocalKekProvider(settings.kek_pem_path or ".local/kek.pem")
    else:
        from shared_code.adapters.keyvault_kek import KeyVaultKekProvider

        kek = KeyVaultKekProvider(settings.key_vault_uri or "", settings.kek_name or "", azure_credential())

    # metadata
    store: MetadataStore
    if settings.metadata_store == "sqlite":
        from shared_code.adapters.sqlite_store import SqliteMetadataStore

        store = SqliteMetadataStore(settings.sqlite_path or ".local/skinvault.db")
    else:
        from shared_code.adapters.cosmos_store import CosmosMetadataStore

        store = CosmosMetadataStore(
            settings.cosmos_endpoint or "", settings.cosmos_database or "skinvault", settings.cosmos_key or azure_credential()
        )

    # spans at the port boundary (ids only); the data keys and blob stores use the traced KEK and store
    kek, store = TracedKekProvider(kek), TracedStore(store)

    # per-patient data keys, wrapped by the KEK, kept in the patient's partition
    from shared_code.adapters.patient_keys import PatientKeyRing

    data_keys = PatientKeyRing(store, kek)

    # blobs + queues
    from shared_code.adapters.blob_router import RoutedBlobStore
    from shared_code.adapters.blob_store import AzureBlobStore
    from shared_code.adapters.storage_queue import StorageQueue

    queue: MessageQueue
    kept = (IMAGES, EXPORTS)
    if settings.storage_connection_string:
        main = AzureBlobStore.from_connection_string(settings.storage_connection_string, kek, containers=kept, data_keys=data_keys)
        queue = StorageQueue.from_connection_string(settings.storage_connection_string)
    else:
        main = AzureBlobStore.from_identity(settings.storage_blob_uri or "", azure_credential(), kek, containers=kept, data_keys=data_keys)
        queue = StorageQueue.from_identity(settings.storage_queue_uri or "", azure_credential())
    if settings.uploads_connection_string:
        ingest = AzureBlobStore.from_connection_string(settings.uploads_connection_string, kek, containers=(UPLOADS,))
    else:
        ingest = AzureBlobStore.from_identity(settings.uploads_blob_uri or "", azure_credential(), kek, containers=(UPLOADS,))
    blobs: BlobStore = RoutedBlobStore(main, {UPLOADS: ingest})

    # email
    email: EmailSender
    if settings.email_sender == "outbox":
        from shared_code.adapters.outbox_email import OutboxEmailSender

        email = OutboxEmailSender(settings.email_outbox_dir or ".local/outbox", settings.email_from_address)
    else:
        from shared_code.adapters.acs_email import AcsEmailSender

        email = AcsEmailSender(settings.acs_endpoint or "", azure_credential(), settings.email_from_address)

    dev_issuer = DevIssuer.from_settings(settings) if settings.dev_issuer_enabled else None
    validator = build_validator(settings, dev_issuer)
    return instrument(
        Services(
            settings=settings,
            store=store,
            blobs=blobs,
            queue=queue,
            kek=kek,
            email=email,
            validator=validator,
            dev_issuer=dev_issuer,
            data_keys=data_keys,
        )
    )


def instrument(services: Services) -> Services:
    """The same services with tracing decorators on the store, blob, queue, KEK and email ports
    (ports already wrapped stay as they are). The queue decorator carries the trace in each message."""
    ports = traced(store=services.store, blobs=services.blobs, queue=services.queue, kek=services.kek, email=services.email)
    return dataclasses.replace(services, **ports)


def build_upload_queues(settings: Settings) -> Any:
    """Queues of the uploads (ingest) account, where the host keeps the blob trigger's poison queue
    (ops only: the manage CLI). Identity-based in Azure: the account's queue endpoint."""
    from shared_code.adapters.storage_queue import StorageQueue

    if settings.uploads_connection_string:
        return StorageQueue.from_connection_string(settings.uploads_connection_string)
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    credential = (
        ManagedIdentityCredential(client_id=settings.storage_client_id)
        if settings.storage_client_id
        else DefaultAzureCredential(exclude_interactive_browser_credential=True)
    )
    return StorageQueue.from_identity((settings.uploads_blob_uri or "").replace(".blob.", ".queue."), credential)


def build_validator(settings: Settings, dev_issuer: DevIssuer | None) -> TokenValidator:
    issuers: list[TrustedIssuer] = []
    same_issuer = settings.patient_issuer == settings.staff_issuer
    for issuer, audience, jwks_uri, kind in (
        (settings.patient_issuer, settings.patient_audience, settings.patient_jwks_uri, "any" if same_issuer else "patient"),
        (settings.staff_issuer, settings.staff_audience, settings.staff_jwks_uri, "staff"),
    ):
        if same_issuer and kind == "staff":
            continue
        if dev_issuer is not None and issuer == dev_issuer.issuer:
            continue  # the dev issuer itself (local settings name it): trusted below, with its own key
        # A real issuer's keys only ever come from its own JWKS, never from the dev issuer.
        issuers.append(TrustedIssuer(issuer=issuer, audience=audience, keys=HttpJwks(jwks_uri), kind=kind))
    if dev_issuer is not None:
        # its own issuer (loopback only): roles decide clinician/admin, none means patient
        issuers.append(TrustedIssuer(issuer=dev_issuer.issuer, audience=dev_issuer.audience, keys=dev_issuer, kind="any"))
    return TokenValidator(issuers, clinician_role=settings.clinician_role, admin_role=settings.admin_role)


def startup() -> Settings:
    """Validate settings at start-up so a bad one fails loudly and by name, before any request;
    then set up telemetry (App Insights in Azure; console/file locally when asked; else none)."""
    settings = Settings.from_env()
    telemetry.configure(settings)
    return settings


def services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build(Settings.from_env())
                for what, prepare in (
                    ("metadata store", _services.store.ensure_containers),
                    ("blob storage", _services.blobs.ensure_containers),
                    ("queues", getattr(_services.queue, "ensure_queues", lambda: None)),
                ):
                    try:
                        prepare()
                    except Exception as exc:  # noqa: BLE001 - may be down at start; health reports it
                        log.warning("%s not ready at start-up: %s", what, type(exc).__name__)
    return _services


def override(replacement: Services | None) -> None:
    """Tests: use these services (or None to rebuild from the environment on next use)."""
    global _services
    with _lock:
        _services = replacement
