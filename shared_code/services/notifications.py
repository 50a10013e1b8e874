"""Notification emails, sent from queue messages that carry ids only.

No email carries a patient's name, NHS number, date of birth, body site, condition, notes or an
image: only that there is something to see and a sign-in link. Clinic emails link to the clinician
app; patient emails link to the patient app (`/app/`), never the clinician app. Each notification
has a deterministic message id so a message delivered twice is sent once; new-photo and reply
emails are limited to one per case per window, and "your clinic has sent you a message" emails to
one per patient per window.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from shared_code.domain.common import is_valid_id, iso, parse_instant, stable_id
from shared_code.domain.conversation import PENDING, invitation_state
from shared_code.domain.email_address import html_text, is_email_address
from shared_code.domain.errors import NotFoundError
from shared_code.domain.sharing import ACTIVE, share_state
from shared_code.ports import CLINICS, LOOKUPS, PATIENTS, EmailMessage, NotFound
from shared_code.services import access, clinics, concurrency, email_verification

log = logging.getLogger("skinvault.notifications")

KINDS = ("share-granted", "new-images", "more-photos-requested", "clinic-message", "patient-reply", "invitation", "sharing-ended")
# the ids each conversation notification needs (a message without them cannot be acted on)
NEEDS = {
    "clinic-message": ("patientId", "messageId"),
    "patient-reply": ("caseId", "commentId"),
    "invitation": ("invitationId",),
    "sharing-ended": ("caseId",),
}


def _clinic_email(services: Any, clinic: dict, subject: str, lead: str, message_id: str) -> EmailMessage:
    link = f"{services.settings.public_base_url}/"
    text = f"{lead}\n\nSign in to SkinVault to see it: {link}\n\nThis email has no patient details by design. Please do not reply."
    html = (
        f'<p>{html_text(lead)}</p><p><a href="{html_text(link)}">Sign in to SkinVault</a> to see it.</p>'
        "<p>This email has no patient details by design. Please do not reply.</p>"
    )
    return EmailMessage(to=clinic["notificationEmail"], subject=subject, text=text, html=html, message_id=message_id)


def _patient_email(services: Any, to: str, subject: str, lead: str, message_id: str, query: str = "") -> EmailMessage:
    link = f"{services.settings.public_base_url}/app/{query}"
    text = f"{lead}\n\nOpen SkinVault to see it: {link}\n\nThis email has no health details by design. Please do not reply."
    html = (
        f'<p>{html_text(lead)}</p><p><a href="{html_text(link)}">Open SkinVault</a> to see it.</p>'
        "<p>This email has no health details by design. Please do not reply.</p>"
    )
    return EmailMessage(to=to, subject=subject, text=text, html=html, message_id=message_id)


_ID_FIELDS = {
    "share-granted": ("clinicId", "caseId", "shareId"),
    "new-images": ("clinicId", "caseId", "imageId"),
    "more-photos-requested": ("clinicId", "caseId", "patientId"),
}


def _id_fields(kind: str) -> tuple[str, ...]:
    return _ID_FIELDS.get(kind) or ("clinicId", *NEEDS.get(kind, ()))


def _why_not(services: Any, kind: str, message: dict) -> str | None:
    """Checks a message against the store before anything is sent: the reason to drop it, or None.

    Queue messages can be forged or stale (a share revoked, a photo deleted since): the case must
    exist for that clinic and the share, photo or patient it names must be real and still current."""
    fields = _id_fields(kind)
    if not all(is_valid_id(message.get(name)) for name in fields):
        return "malformed-ids"
    if "caseId" not in fields:
        return None  # a clinic message or an invitation: its handler reads what the message names first
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
    elif kind == "more-photos-requested" and message["patientId"] != patient_id:
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
        ids = " ".join(f"{name}={message[name]}" for name in _id_fields(kind) if name != "patientId" and is_valid_id(message.get(name)))
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
    if kind in NEEDS and not all(isinstance(message.get(f), str) and message[f] for f in NEEDS[kind]):
        log.warning("notification without its ids dropped kind=%s", kind)
        return "skipped"
    if kind == "clinic-message":
        return _clinic_message(services, message)
    if kind == "patient-reply":
        return _patient_reply(services, clinic, message["caseId"], message["commentId"])
    if kind == "invitation":
        return _invitation(services, clinic, message["invitationId"])
    if kind == "sharing-ended":
        mail = _clinic_email(
            services,
            clinic,
            "A patient has stopped sharing photos",
            f"A patient has stopped sharing photos with {clinic['name']}. Their case stays on your worklist for 30 days, without photos.",
            stable_id("mail", "sharing-ended", str(message["caseId"]), str(message.get("at", ""))),
        )
        services.email.send(mail)
        log.info("notification sent kind=sharing-ended case_id=%s", message["caseId"])
        return "sent"
    return _more_photos(services, clinic, message)


def _claim_window(services: Any, key: str, item_id: str) -> bool:
    """Whether the message about `item_id` may send the email coalesced under `key` (one per window).

    The window is claimed before sending, so that messages processed together (the host hands a
    batch to concurrent invocations) send one email between them, not one each. A redelivery of the
    message that holds the claim sends again with the same message id (the sender dedupes)."""
    now = services.clock.now()
    window = timedelta(minutes=services.settings.notification_window_minutes)
    send = False

    def claim(marker: dict) -> bool | None:
        nonlocal send
        if marker.get("imageId") == item_id:
            send = True  # this message holds the claim (a redelivery)
            return False
        if marker.get("sentAt") and parse_instant(marker["sentAt"]) + window > now:
            send = False
            return False
        marker.update(sentAt=iso(now), imageId=item_id)
        send = True
        return None

    # a lost race re-reads and re-decides; after 5, PreconditionFailed: the host retries the message
    concurrency.modify(services.store, LOOKUPS, (key, key), claim, create=lambda: {"id": key, "key": key})
    return send


def _new_images(services: Any, clinic: dict, case_id: str, image_id: str) -> str:
    if not _claim_window(services, f"notify-case:{case_id}", image_id):
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
    mail = _patient_email(
        services,
        address,
        "Your clinic has asked for more photos",
        f"{clinic['name']} has asked you for more photos. Open the SkinVault app to see what they need.",
        stable_id("mail", "more-photos", str(message["caseId"]), str(message.get("at", ""))),
    )
    services.email.send(mail)
    log.info("notification sent kind=more-photos-requested case_id=%s", message["caseId"])
    return "sent"


def _clinic_message(services: Any, message: dict) -> str:
    """ "Your clinic has sent you a message": to the patient's address if they gave one, at most one
    per window however many messages the clinic sends; nothing if the message was withdrawn."""
    patient_id, message_id = message["patientId"], message["messageId"]
    # only ever an address the patient proved is theirs (a code sent to it) or their identity token's
    email = email_verification.verified_address(services.store, patient_id)
    if email is None:
        return "skipped"
    try:
        sent = services.store.read(PATIENTS, patient_id, message_id)
    except NotFound:
        return "skipped"
    if sent.get("withdrawnAt"):
        return "skipped"
    if not _claim_window(services, f"notify-patient:{patient_id}", message_id):
        log.info("notification throttled kind=clinic-message")
        return "throttled"
    mail = _patient_email(
        services,
        email,
        "Your clinic has sent you a message in SkinVault",
        "Your clinic has sent you a message in SkinVault.",
        stable_id("mail", "clinic-message", patient_id, message_id),
    )
    services.email.send(mail)
    log.info("notification sent kind=clinic-message message_id=%s", mail.message_id)
    return "sent"


def _patient_reply(services: Any, clinic: dict, case_id: str, comment_id: str) -> str:
    if not _claim_window(services, f"notify-reply:{case_id}", comment_id):
        log.info("notification throttled kind=patient-reply case_id=%s", case_id)
        return "throttled"
    mail = _clinic_email(
        services,
        clinic,
        "A patient has replied",
        f"A patient has replied to {clinic['name']} in SkinVault.",
        stable_id("mail", "patient-reply", case_id, comment_id),
    )
    services.email.send(mail)
    log.info("notification sent kind=patient-reply case_id=%s", case_id)
    return "sent"


def _invitation(services: Any, clinic: dict, invitation_id: str) -> str:
    """The photo request: a link to the patient app with the one-time code. The clinic's instruction
    is not in the email (it may be clinical): the patient reads it in the app."""
    try:
        invitation = services.store.read(CLINICS, clinic["id"], invitation_id)
    except NotFound:
        return "skipped"
    if invitation_state(invitation, services.clock.now()) != PENDING:
        return "skipped"
    mail = _patient_email(
        services,
        invitation["email"],
        "Your clinic has asked you to share photos",
        "Your clinic has asked you to share photos with them through SkinVault. The link works once and for 14 days.",
        stable_id("mail", "invitation", invitation_id),
        query=f"?invite={invitation['code']}",
    )
    services.email.send(mail)
    log.info("notification sent kind=invitation invitation_id=%s", invitation_id)
    return "sent"
