"""The patient's notification address: nothing is emailed to a patient at an address they have not
proved is theirs.

An address becomes the notification address when the patient types in a 6-digit code sent to it,
or when it is the email claim of their identity token (the identity provider verified it). The
code is kept only as a salted hash, expires after 15 minutes, allows 5 tries, and at most 5 codes
are sent per patient per hour. Both documents live in the patient's partition, so erasure takes
them with everything else.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import is_valid_id, iso, parse_instant, stable_id
from shared_code.domain.email_address import check_email_address, html_text, is_email_address
from shared_code.domain.errors import RateLimited, RuleViolation
from shared_code.ports import PATIENTS, Conflict, EmailMessage, MetadataStore, NotFound
from shared_code.services import concurrency

log = logging.getLogger("skinvault.email_verification")

VERIFIED_ID = "notification-email"
PENDING_ID = "email-verification"
CODE_TTL = timedelta(minutes=15)
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 5

REQUEST_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email"],
    "properties": {"email": {"type": "string", "minLength": 3, "maxLength": 254}},
}
CONFIRM_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code"],
    "properties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}},
}


def verified_address(store: MetadataStore, patient_id: str) -> str | None:
    """The address the patient proved is theirs, or None: the only address patient emails go to."""
    if not is_valid_id(patient_id):
        return None
    try:
        doc = store.read(PATIENTS, patient_id, VERIFIED_ID)
    except NotFound:
        return None
    email = doc.get("email")
    return email if is_email_address(email) else None


def _store_verified(store: MetadataStore, patient_id: str, email: str, source: str, now: Any) -> dict:
    doc = {"id": VERIFIED_ID, "patientId": patient_id, "type": "notification-email", "email": email, "source": source, "verifiedAt": iso(now)}
    store.upsert(PATIENTS, doc)
    log.info("notification address verified patient_id=%s source=%s", patient_id, source)
    return {"email": email, "status": "verified", "verifiedAt": doc["verifiedAt"]}


def note_token_email(store: MetadataStore, user: Principal, now: Any) -> None:
    """The identity token's email claim, verified by the identity provider, becomes the notification
    address when the patient has none yet."""
    if not user.email or not is_email_address(user.email):
        return
    doc = {"id": VERIFIED_ID, "patientId": user.patient_id, "type": "notification-email", "email": user.email}
    doc.update({"source": "identity-token", "verifiedAt": iso(now)})
    try:
        store.create(PATIENTS, doc)
    except Conflict:
        pass  # the patient already has one: a token never replaces a verified choice


def _code_hash(salt: str, patient_id: str, code: str) -> str:
    return hashlib.sha256(f"{salt}|{patient_id}|{code}".encode()).hexdigest()


def request_code(services: Any, user: Principal, email: str) -> tuple[int, dict]:
    """(status, body): 200 verified at once (the token's own address), 202 a code was sent."""
    store, now, pid = services.store, services.clock.now(), user.patient_id
    address = check_email_address(email)
    if user.email and address.lower() == user.email.strip().lower():
        return 200, _store_verified(store, pid, address, "identity-token", now)
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    expires = now + CODE_TTL
    hour_ago = now - timedelta(hours=1)

    def change(doc: dict) -> None:
        sent = [t for t in doc.get("sentAt", []) if parse_instant(t) > hour_ago]
        if len(sent) >= MAX_CODES_PER_HOUR:
            wait = int((parse_instant(min(sent)) + timedelta(hours=1) - now).total_seconds()) + 1
            raise RateLimited("Too many codes asked for. Try again later.", retry_after_seconds=max(wait, 1))
        doc.update(
            {
                "email": address,
                "salt": salt,
                "codeHash": _code_hash(salt, pid, code),
                "expiresAt": iso(expires),
                "attempts": 0,
                "sentAt": [*sent, iso(now)],
            }
        )

    def fresh() -> dict:
        return {"id": PENDING_ID, "patientId": pid, "type": "email-verification"}

    concurrency.modify(store, PATIENTS, (pid, PENDING_ID), change, create=fresh)
    text = (
        f"Your SkinVault code is {code}. Type it into the app to confirm this email address.\n\n"
        "It stops working in 15 minutes. If you did not ask for it, ignore this email.\n\nPlease do not reply to this email."
    )
    html = (
        f"<p>Your SkinVault code is <strong>{html_text(code)}</strong>. Type it into the app to confirm this email address.</p>"
        "<p>It stops working in 15 minutes. If you did not ask for it, ignore this email.</p><p>Please do not reply to this email.</p>"
    )
    mail = EmailMessage(
        to=address, subject="Your SkinVault code", text=text, html=html, message_id=stable_id("mail", "email-verification", pid, salt)
    )
    services.email.send(mail)
    log.info("email verification code sent patient_id=%s message_id=%s", pid, mail.message_id)
    return 202, {"email": address, "status": "code-sent", "expiresAt": iso(expires)}


def confirm_code(services: Any, user: Principal, code: str) -> dict:
    store, now, pid = services.store, services.clock.now(), user.patient_id
    claimed: dict[str, Any] = {}

    def claim_attempt(doc: dict) -> bool | None:
        claimed.clear()
        if not doc.get("codeHash") or parse_instant(doc["expiresAt"]) <= now:
            claimed["outcome"] = "expired"
            return False
        if doc.get("attempts", 0) >= MAX_ATTEMPTS:
            claimed["outcome"] = "spent"
            return False
        doc["attempts"] = doc.get("attempts", 0) + 1  # counted before comparing: parallel guesses stay within the limit
        claimed.update(outcome="try", salt=doc["salt"], codeHash=doc["codeHash"], email=doc["email"])
        return None

    if concurrency.modify(store, PATIENTS, (pid, PENDING_ID), claim_attempt) is None:
        raise RuleViolation("Ask for a code first: POST /api/me/email-verification.")
    if claimed["outcome"] == "expired":
        raise RuleViolation("That code has expired. Ask for a new one.")
    if claimed["outcome"] == "spent":
        raise RateLimited("Too many wrong codes. Ask for a new code.", retry_after_seconds=60)
    if not hmac.compare_digest(_code_hash(claimed["salt"], pid, code), claimed["codeHash"]):
        raise RuleViolation("That code is not right. Check the email and try again.")
    result = _store_verified(store, pid, claimed["email"], "code", now)

    def spend(doc: dict) -> None:
        doc.update(codeHash=None, attempts=MAX_ATTEMPTS)  # one code confirms once; the send history stays for the limit

    concurrency.modify(store, PATIENTS, (pid, PENDING_ID), spend)
    return result
