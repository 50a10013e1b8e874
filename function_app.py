"""Azure Functions entry point: only wiring. Each functions/ module contributes one blueprint."""

import azure.functions as func

from functions import (
    audit_log,
    clinic_cases,
    clinical,
    comments,
    dev_tokens,
    email_verification,
    exports,
    folders,
    health,
    images,
    invitations,
    manage_clinics,
    notifications,
    openapi_doc,
    profile,
    reconciliation,
    reference_data,
    reminders,
    sharing,
    studies,
    upload_processing,
    uploads,
)
from shared_code import bootstrap

bootstrap.startup()  # a missing or malformed setting fails here, naming it, not at the first request

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
MODULES = (
    health,
    profile,
    email_verification,
    dev_tokens,
    manage_clinics,
    folders,
    uploads,
    images,
    upload_processing,
    sharing,
    clinic_cases,
    clinical,
    comments,
    invitations,
    reminders,
    audit_log,
    notifications,
    exports,
    openapi_doc,
    reference_data,
    reconciliation,
    studies,
)
for module in MODULES:
    app.register_functions(module.bp)
