"""function_app.py wires every function with the right trigger, route, methods and auth level."""

from __future__ import annotations

from tests.support.functions_client import all_functions

# name -> (route, methods) for every HTTP function; this table is the wiring contract.
HTTP = {
    "health_check": ("health", {"GET"}),
    "get_openapi_document": ("openapi.json", {"GET"}),
    "get_me": ("me", {"GET"}),
    "put_me": ("me", {"PUT"}),
    "erase_me": ("me", {"DELETE"}),
    "export_me": ("me/export", {"GET"}),
    "mint_dev_token": ("dev/token", {"POST"}),
    "dev_jwks": ("dev/jwks", {"GET"}),
    "list_clinics": ("manage/clinics", {"GET"}),
    "create_clinic": ("manage/clinics", {"POST"}),
    "list_clinic_members": ("manage/clinics/{clinicId}/members", {"GET"}),
    "add_clinic_member": ("manage/clinics/{clinicId}/members", {"POST"}),
    "remove_clinic_member": ("manage/clinics/{clinicId}/members/{sub}", {"DELETE"}),
    "list_body_sites": ("body-sites", {"GET"}),
    "list_folders": ("folders", {"GET"}),
    "create_folder": ("folders", {"POST"}),
    "get_folder": ("folders/{folderId}", {"GET"}),
    "update_folder": ("folders/{folderId}", {"PATCH"}),
    "delete_folder": ("folders/{folderId}", {"DELETE"}),
    "list_folder_images": ("folders/{folderId}/images", {"GET"}),
    "start_upload": ("folders/{folderId}/uploads", {"POST"}),
    "get_upload_key": ("upload-key", {"GET"}),
    "get_image": ("images/{imageId}", {"GET"}),
    "update_image": ("images/{imageId}", {"PATCH"}),
    "delete_image": ("images/{imageId}", {"DELETE"}),
    "get_image_content": ("images/{imageId}/content", {"GET"}),
    "find_clinic": ("clinics", {"GET"}),
    "get_consent_text": ("consent-text", {"GET"}),
    "list_shares": ("shares", {"GET"}),
    "grant_share": ("shares", {"POST"}),
    "revoke_share": ("shares/{shareId}", {"DELETE"}),
    "list_cases": ("clinic/cases", {"GET"}),
    "get_case": ("clinic/cases/{caseId}", {"GET"}),
    "mark_case_reviewed": ("clinic/cases/{caseId}/reviewed", {"POST"}),
    "set_case_triage": ("clinic/cases/{caseId}/triage", {"PUT"}),
    "list_image_comments": ("images/{imageId}/comments", {"GET"}),
    "add_image_comment": ("images/{imageId}/comments", {"POST"}),
    "list_folder_comments": ("folders/{folderId}/comments", {"GET"}),
    "add_folder_comment": ("folders/{folderId}/comments", {"POST"}),
    "list_folder_messages": ("folders/{folderId}/messages", {"GET"}),
    "list_my_messages": ("messages", {"GET"}),
    "withdraw_case_comment": ("clinic/cases/{caseId}/comments/{commentId}/withdraw", {"POST"}),
    "list_case_notes": ("clinic/cases/{caseId}/notes", {"GET"}),
    "add_case_note": ("clinic/cases/{caseId}/notes", {"POST"}),
    "add_folder_triage": ("clinic/cases/{caseId}/folders/{folderId}/triage", {"POST"}),
    "list_folder_triage": ("clinic/cases/{caseId}/folders/{folderId}/triage", {"GET"}),
    "reveal_intimate_photo": ("clinic/cases/{caseId}/images/{imageId}/reveal", {"POST"}),
    "put_lesion_history": ("folders/{folderId}/lesion-history", {"PUT"}),
    "get_lesion_history": ("folders/{folderId}/lesion-history", {"GET"}),
    "get_lesion_questionnaire": ("lesion-history/questionnaire", {"GET"}),
    "add_measurement": ("clinic/cases/{caseId}/images/{imageId}/measurements", {"POST"}),
    "list_measurements": ("clinic/cases/{caseId}/images/{imageId}/measurements", {"GET"}),
    "request_photos": ("clinic/invitations", {"POST"}),
    "get_invitation": ("clinic/invitations/{invitationId}", {"GET"}),
    "cancel_invitation": ("clinic/invitations/{invitationId}/cancel", {"POST"}),
    "look_up_invitation": ("invitations/{code}", {"GET"}),
    "accept_invitation": ("invitations/{code}/accept", {"POST"}),
    "list_reminders": ("reminders", {"GET"}),
    "set_folder_reminder": ("folders/{folderId}/reminder", {"PUT"}),
    "remove_folder_reminder": ("folders/{folderId}/reminder", {"DELETE"}),
    "get_audit_trail": ("audit", {"GET"}),
    "request_export": ("exports", {"POST"}),
    "get_export": ("exports/{exportId}", {"GET"}),
    "get_export_content": ("exports/{exportId}/content", {"GET"}),
    "list_studies": ("manage/studies", {"GET"}),
    "create_study": ("manage/studies", {"POST"}),
    "get_managed_study": ("manage/studies/{studyId}", {"GET"}),
    "add_study_information": ("manage/studies/{studyId}/information", {"POST"}),
    "list_study_researchers": ("manage/studies/{studyId}/researchers", {"GET"}),
    "add_study_researcher": ("manage/studies/{studyId}/researchers", {"POST"}),
    "remove_study_researcher": ("manage/studies/{studyId}/researchers/{sub}", {"DELETE"}),
    "find_study": ("studies", {"GET"}),
    "list_enrolments": ("enrolments", {"GET"}),
    "enrol": ("enrolments", {"POST"}),
    "get_enrolment": ("enrolments/{enrolmentId}", {"GET"}),
    "withdraw_enrolment": ("enrolments/{enrolmentId}", {"DELETE"}),
    "list_my_studies": ("research/studies", {"GET"}),
    "get_research_study": ("research/studies/{studyId}", {"GET"}),
    "list_participants": ("research/studies/{studyId}/participants", {"GET"}),
    "get_participant_photo": ("research/studies/{studyId}/participants/{participantId}/photos/{photoId}/content", {"GET"}),
    "list_research_exports": ("research/studies/{studyId}/exports", {"GET"}),
    "request_research_export": ("research/studies/{studyId}/exports", {"POST"}),
    "get_research_export": ("research/studies/{studyId}/exports/{exportId}", {"GET"}),
    "get_research_export_content": ("research/studies/{studyId}/exports/{exportId}/content", {"GET"}),
    "request_email_verification": ("me/email-verification", {"POST"}),
    "confirm_email_verification": ("me/email-verification/confirm", {"POST"}),
}
OTHER = {
    "process_upload": ("blobTrigger", {"path": "uploads/{name}", "connection": "UPLOADS_STORAGE", "source": "EventGrid"}),
    "send_notification": ("queueTrigger", {"queueName": "notifications", "connection": "STORAGE"}),
    "build_export": ("queueTrigger", {"queueName": "export-jobs", "connection": "STORAGE"}),
    "send_due_reminders": ("timerTrigger", {"schedule": "0 0 * * * *", "runOnStartup": "False", "useMonitor": "True"}),
    "reconcile": ("timerTrigger", {"schedule": "0 */5 * * * *"}),
}


def _by_name() -> dict:
    return {fn.get_function_name(): fn for fn in all_functions()}


def test_every_http_function_has_its_route_methods_and_anonymous_auth():
    functions = _by_name()
    http = {name: fn for name, fn in functions.items() if fn.get_trigger().get_binding_name() == "httpTrigger"}
    assert set(http) == set(HTTP), f"unexpected: {set(http) ^ set(HTTP)}"
    for name, fn in http.items():
        trigger = fn.get_trigger().get_dict_repr()
        route, methods = HTTP[name]
        assert trigger["route"] == route, name
        assert {str(getattr(m, "value", m)) for m in trigger["methods"]} == methods, name
        # Functions keys are not identity: every endpoint authenticates bearer tokens itself.
        assert str(getattr(trigger["authLevel"], "value", trigger["authLevel"])).lower() == "anonymous", name


def test_blob_and_queue_triggers_are_wired_to_the_storage_connection():
    functions = _by_name()
    others = {name: fn for name, fn in functions.items() if fn.get_trigger().get_binding_name() != "httpTrigger"}
    assert set(others) == set(OTHER)
    for name, (kind, expected) in OTHER.items():
        trigger = others[name].get_trigger()
        assert trigger.get_binding_name() == kind
        rep = trigger.get_dict_repr()
        for key, value in expected.items():
            assert str(getattr(rep[key], "value", rep[key])) == value, (name, key)


def test_no_two_functions_share_a_route_and_method():
    seen = set()
    for route, methods in HTTP.values():
        for method in methods:
            assert (route, method) not in seen
            seen.add((route, method))


def test_the_upload_trigger_takes_a_blob_client_so_the_worker_never_receives_the_content():
    import typing

    import azurefunctions.extensions.bindings.blob as blob

    fn = _by_name()["process_upload"]
    parameter = fn.get_trigger().get_dict_repr()["name"]
    assert typing.get_type_hints(fn.get_user_function())[parameter] is blob.BlobClient
