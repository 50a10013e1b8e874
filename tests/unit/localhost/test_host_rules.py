"""The local host applies the Functions host's start-up rules, so what Azure would drop fails here."""

from __future__ import annotations

import azure.functions as func
import pytest

from localhost.host_rules import HostRuleError, check_functions, enforce
from tests.support.functions_client import all_functions


def _messages(app: func.FunctionApp) -> list[str]:
    return [str(v) for v in check_functions(app.get_functions())]


def test_every_function_of_the_app_passes_the_host_rules():
    assert check_functions(all_functions()) == []


@pytest.mark.parametrize("route", ["admin/clinics", "/admin", "Admin/Clinics/{clinicId}", "administer", "runtime/webhooks", "/RUNTIME/x/"])
def test_a_route_the_host_reserves_is_refused_naming_the_function(route):
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route=route, methods=["GET"])
    def create_clinic(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    @app.route(route="manage/clinics", methods=["GET"])
    def list_clinics(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    functions = app.get_functions()
    with pytest.raises(HostRuleError) as refused:
        enforce(functions)
    assert [v.function for v in refused.value.violations] == ["create_clinic"]
    assert "conflicts with one or more built in routes" in str(refused.value) and "create_clinic" in str(refused.value)


def test_a_function_named_for_a_reserved_route_without_a_route_is_refused():
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(methods=["GET"])  # no route: the host uses the function's name
    def admin_report(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    assert _messages(app) == ["function 'admin_report': the route 'admin_report' conflicts with one or more built in routes (admin, runtime)"]


@pytest.mark.parametrize("name", ["clinic.list", "2fa_check", "host", "list clinics", "x" * 129])
def test_a_name_the_host_does_not_accept_is_refused(name):
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.function_name(name=name)
    @app.route(route="fine", methods=["GET"])
    def handler(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    violations = check_functions(app.get_functions())
    assert [v.function for v in violations] == [name] and "is not a valid function name" in violations[0].message


def test_the_same_route_and_method_twice_is_refused_naming_both():
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="manage/clinics", methods=["GET", "POST"])
    def first(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    @app.route(route="/Manage/Clinics/", methods=["POST"])
    def second(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    assert _messages(app) == ["function 'second': the route 'Manage/Clinics' conflicts with the route defined by function 'first'"]


def test_a_route_without_methods_conflicts_with_every_method_but_different_methods_do_not():
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="folders", methods=["GET"])
    def list_folders(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    @app.route(route="folders", methods=["POST"])
    def create_folder(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    @app.route(route="folders")  # all methods
    def anything_on_folders(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    assert [v.function for v in check_functions(app.get_functions())] == ["anything_on_folders", "anything_on_folders"]


def test_a_polling_blob_trigger_is_refused_on_flex_consumption():
    app = func.FunctionApp()

    @app.blob_trigger(arg_name="blob", path="uploads/{name}", connection="UPLOADS_STORAGE")
    def process_upload(blob: func.InputStream) -> None:
        return None

    assert _messages(app) == ["function 'process_upload': the Flex Consumption plan only runs blob triggers with source='EventGrid'"]


@pytest.mark.parametrize("schedule", ["*/5 * * * *", "0 0 25 * * *", "00:05:00", "0 0 9 * * Funday"])
def test_a_timer_schedule_that_is_not_six_field_ncrontab_is_refused(schedule):
    app = func.FunctionApp()

    @app.timer_trigger(arg_name="timer", schedule=schedule)
    def reminders(timer: func.TimerRequest) -> None:
        return None

    violations = check_functions(app.get_functions())
    assert [v.function for v in violations] == ["reminders"] and violations[0].message.startswith("timer schedule:")


def test_a_timer_schedule_from_an_app_setting_is_checked_when_the_timer_starts():
    app = func.FunctionApp()

    @app.timer_trigger(arg_name="timer", schedule="%REMINDER_SCHEDULE%")
    def reminders(timer: func.TimerRequest) -> None:
        return None

    assert check_functions(app.get_functions()) == []
