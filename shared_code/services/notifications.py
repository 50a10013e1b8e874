"""Notification emails, sent from queue messages that carry ids only.

No email carries a patient's name, NHS number, date of birth, body site, condition, notes or an
image: only that there is something to see and a sign-in link. Each notification has a
deterministic message id so a message delivered twice is sent once; new-photo emails are limited
to one per case per window.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from shared_code.domain.common import is_valid_id, iso, parse_instant, stable_id
from shared_code.domain.email_address import html_text, is_email_address
from shared_code.domain.errors import NotFoundError
from shared_code.domain.sharing import ACTIVE, share_state
from shared_code.ports import CLINICS, LOOKUPS, PATIENTS, EmailMessage, NotFound
from shared_code.services import access, clinics, concurrency, email_verification

log = logging.getLogger("skinvault.notifications")

KINDS = ("share-granted", "new-images", "more-photos-requested")


def _clinic_email(services: Any, clinic: dict, subject: str, lead: str, message_id: str) -> EmailMessage:
    link = f"{services.settings.public_base_url}/"
    text = f"{lead}\n\nSign in to SkinVault to see it: {link}\n\nThis email has no patient details by design. Please do not reply."
    html = (
        f'<p>{html_text(lead)}</p><p><a href="{html_text(link)}">Sign in to SkinVault</a> to see it.</p>'
        "<p>This email has no patient details by design. Please do not reply.</p>"
    )
    return EmailMessage(to=clinic["notificationEmail"], subject=subject, text=text, html=html, message_id=message_id)


_ID_FIELDS = {
    "share-granted": ("clinicId", "caseId", "shareId"),
    "new-images": ("clinicId", "caseId", "imageId"),
    "more-photos-requested": ("clinicId", "caseId", "patientId"),
}


def _why_not(services: Any, kind: str, message: dict) -> str | None:
    """Checks a message against the store before anything is sent: the reason to drop it, or None.

    Queue messages can be forged or stale (a share revoked, a photo deleted since): the case must
    exist for that clinic and the share, photo or patient it names must be real and still current."""
    if not all(is_valid_id(message.get(name)) for name in _ID_FIELDS[kind]):
        return "malformed-ids"
    store, clinic_id = services.store, message["clinicId"]
    try:
        case = store.read(CLINICS, clinic_id, message["caseId"])
    except NotFound:
        return "no-such-case"
    if case.get("type") != "case" or case.get("clinicId") != clinic_id or not is_valid_id(case.get("patientId")):
        return "no-such-case"
    patient_id = case["patientId"]
    if kind == "share-granted":
        try:
            share = store.read(PATIENTS, patient_id, message["shareId"])
        except NotFound:
            return "no-such-share"
        if share.get("type") != "share" or share.get("clinicId") != clinic_id:
            return "no-such-share"
        if share_state(share, services.clock.now()) != ACTIVE:
            return "share-not-active"
    elif kind == "new-images":
        try:
            image = store.read(PATIENTS, patient_id, message["imageId"])
        except NotFound:
            return "no-such-image"
        if image.get("type") != "image" or image.get("status") != "ready":
            return "no-such-image"
        if access.active_share(store, patient_id, (clinic_id,), services.clock.now()) is None:
            return "share-not-active"
    elif message["patientId"] != patient_id:
        return "not-this-cases-patient"
    return None


def handle(services: Any, message: dict) -> str:
    """Returns what happened: 'sent', 'throttled', 'skipped'. Raises DependencyUnavailable to retry."""
    kind = message.get("kind") if isinstance(message, dict) else None
    if kind not in KINDS:
        log.warning("notification with unknown kind dropped")
        return "skipped"
    reason = _why_not(services, kind, message)
    if reason is not None:
        # ids only (checked against the id rule first, so nothing else reaches the log)
        ids = " ".join(f"{name}={message[name]}" for name in _ID_FIELDS[kind] if name != "patientId" and is_valid_id(message.get(name)))
        log.warning("notification dropped kind=%s reason=%s %s", kind, reason, ids)
        return "skipped"
    try:
        clinic = clinics.get_clinic(services.store, str(message.get("clinicId", "")))
    except NotFoundError:
        return "skipped"
    if not is_email_address(clinic.get("notificationEmail")):  # stored before addresses were checked
        log.warning("notification dropped kind=%s reason=clinic-address-not-valid clinicId=%s", kind, clinic["id"])
        return "skipped"
    if kind == "share-granted":
        mail = _clinic_email(
            services,
            clinic,
            "A patient has shared photos with your clinic",
            f"A patient has shared skin photos with {clinic['name']} through SkinVault.",
            stable_id("mail", "share-granted", str(message["shareId"])),
        )
        services.email.send(mail)
        log.info("notification sent kind=%s message_id=%s", kind, mail.message_id)
        return "sent"
    if kind == "new-images":
        return _new_images(services, clinic, str(message["caseId"]), str(message["imageId"]))
    return _more_photos(services, clinic, message)


def _new_images(services: Any, clinic: dict, case_id: str, image_id: str) -> str:
    store, now = services.store, services.clock.now()
    window = timedelta(minutes=services.settings.notification_window_minutes)
    key = f"notify-case:{case_id}"
    # Claim the case's window before sending, so that messages processed together (the host hands
    # a batch to concurrent invocations) send one email between them, not one each. A redelivery of
    # the message that holds the claim sends again with the same message id (the sender dedupes).
    send = False

    def claim(marker: dict) -> bool | None:
        nonlocal send
        if marker.get("imageId") == image_id:
            send = True  # this message holds the claim (a redelivery)
            return False
        if marker.get("sentAt") and parse_instant(marker["sentAt"]) + window > now:
            send = False
            return False
        marker.update(sentAt=iso(now), imageId=image_id)
        send = True
        return None

    # a lost race re-reads and re-decides; after 5, PreconditionFailed: the host retries the message
    concurrency.modify(store, LOOKUPS, (key, key), claim, create=lambda: {"id": key, "key": key})
    if not send:
        log.info("notification throttled kind=new-images case_id=%s", case_id)
        return "throttled"
    mail = _clinic_email(
        services,
        clinic,
        "New photos to review",
        f"A patient has added new photos to a case at {clinic['name']}.",
        stable_id("mail", "new-images", case_id, image_id),
    )
    services.email.send(mail)  # idempotent per message id: a redelivery re-sends the same id
    log.info("notification sent kind=new-images case_id=%s message_id=%s", case_id, mail.message_id)
    return "sent"


def _more_photos(services: Any, clinic: dict, message: dict) -> str:
    # only ever an address the patient proved is theirs (a code sent to it) or their identity token's
    address = email_verification.verified_address(services.store, str(message.get("patientId", "")))
    if address is None:
        log.info("notification skipped kind=more-photos-requested case_id=%s reason=no-verified-address", message["caseId"])
        return "skipped"
    link = f"{services.settings.public_base_url}/"
    mail = EmailMessage(
        to=address,
        subject="Your clinic has asked for more photos",
        text=f"{clinic['name']} has asked you for more photos. Open the SkinVault app to see what they need.\n\n{link}\n\nPlease do not reply to this email.",
        html=f"<p>{html_text(clinic['name'])} has asked you for more photos. Open the SkinVault app to see what they need.</p><p>Please do not reply to this email.</p>",
        message_id=stable_id("mail", "more-photos", str(message["caseId"]), str(message.get("at", ""))),
    )
    services.email.send(mail)
    log.info("notification sent kind=more-photos-requested case_id=%s", message["caseId"])
    return "sent"
