"""infra/bicep is what ops deploy: it must parse, pass checkov, and declare exactly what the code uses.

The facts come from the code (shared_code.config.SPEC, shared_code.ports) and from the Bicep as
parsed by pycep, the parser checkov uses. pycep lives in checkov's own virtual environment
(.venv-checkov, made by scripts/check_infra.sh), so tests/infra/pycep_parse.py runs there and
hands the parsed files back as JSON.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shared_code.config import SPEC, Settings
from shared_code.ports import BLOB_CONTAINERS, CONTAINERS, EXPORTS, QUEUES, UPLOADS

ROOT = Path(__file__).resolve().parents[2]
BICEP_DIR = ROOT / "infra" / "bicep"
MODULES = BICEP_DIR / "modules"
VENV_PYTHON = ROOT / ".venv-checkov" / "bin" / "python"
CHECK_SCRIPT = ROOT / "scripts" / "check_infra.sh"

# Settings without a `when` that hold secrets or local paths: never set in Azure.
LOCAL_ONLY_SETTINGS = {"STORAGE", "UPLOADS_STORAGE", "COSMOS_KEY"}
# The blob extension's poison queue (Microsoft.Azure.WebJobs.Extensions.Storage.Blobs,
# HostQueueNames.BlobTriggerPoisonQueue): it lives on the account of the trigger's connection.
BLOB_TRIGGER_POISON_QUEUE = "webjobs-blobtrigger-poison"


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def checkov_venv() -> Path:
    """The checkov virtual environment, created by scripts/check_infra.sh when missing."""
    proc = subprocess.run(["bash", str(CHECK_SCRIPT), "--install-only"], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0 and VENV_PYTHON.exists(), f"could not create the checkov venv:\n{proc.stderr[-2000:]}"
    return VENV_PYTHON


@pytest.fixture(scope="session")
def check_infra_run(checkov_venv: Path) -> subprocess.CompletedProcess[str]:
    """scripts/check_infra.sh run once: parses every file, runs checkov."""
    return subprocess.run(["bash", str(CHECK_SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="session")
def parsed(checkov_venv: Path) -> dict[str, dict[str, Any]]:
    proc = subprocess.run(
        [str(VENV_PYTHON), str(ROOT / "tests" / "infra" / "pycep_parse.py"), str(BICEP_DIR)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.stdout, proc.stderr[-2000:]
    return {str(Path(path).resolve().relative_to(BICEP_DIR)): entry for path, entry in json.loads(proc.stdout).items()}


def bicep(parsed: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    entry = parsed[name]
    assert entry["ok"], f"{name} does not parse: {entry.get('error')}"
    return entry["json"]


def resources_of_type(doc: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in doc.get("resources", {}).items() if res["type"].lower() == type_.lower()}


def body(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource's properties object, looking through a loop or a condition."""
    config = resource["config"]
    return config["config"] if "loop_type" in config or "condition" in config else config


def identifiers(doc: dict[str, Any]) -> set[str]:
    return set(doc.get("parameters", {})) | set(doc.get("variables", {}))


def is_literal(value: Any, doc: dict[str, Any]) -> bool:
    """pycep renders 'text' and a reference to a param/var alike; a literal is a string naming neither."""
    return isinstance(value, str) and "${" not in value and value not in identifiers(doc)


def resolve(value: Any, doc: dict[str, Any]) -> Any:
    """Substitute references to variables (and ${var} interpolations) holding literals."""
    variables = {name: v["value"] for name, v in doc.get("variables", {}).items()}
    if isinstance(value, list):
        return [resolve(v, doc) for v in value]
    if isinstance(value, str):
        if value in variables:
            return resolve(variables[value], doc)

        def literal(match: re.Match[str]) -> str:
            resolved = resolve(match.group(1), doc) if match.group(1) in variables else None
            return resolved if isinstance(resolved, str) else match.group(0)

        return re.sub(r"\$\{(\w+)\}", literal, value)
    if isinstance(value, dict) and value.get("function", {}).get("type") == "concat":
        out: list[Any] = []
        for arg in value["function"]["parameters"].values():
            resolved = resolve(arg, doc)
            out.extend(resolved if isinstance(resolved, list) else [resolved])
        return out
    return value


def is_reference(value: Any) -> bool:
    """A name or a.b.c (pycep's nested property_accessor operators), nothing computed."""
    if isinstance(value, str):
        return True
    if not (isinstance(value, dict) and value.get("operator", {}).get("type") == "property_accessor"):
        return False
    return all(is_reference(operand) for operand in value["operator"]["operands"].values())


def dotted(value: Any) -> str:
    """a.b.c from pycep's nested property_accessor operators."""
    if isinstance(value, str):
        return value
    operands = value["operator"]["operands"]
    return f"{dotted(operands['operand_1'])}.{dotted(operands['operand_2'])}"


def decorator(param: dict[str, Any], kind: str) -> Any:
    for deco in param.get("decorators", []):
        if deco["type"] == kind:
            return deco["argument"]
    return None


def app_settings(parsed: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    doc = bicep(parsed, "modules/function-app.bicep")
    settings = {key.strip("'"): value for key, value in doc["variables"]["appSettings"]["value"].items()}
    return settings, doc


def azure_environment(parsed: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The Function App's app settings as the code would see them: literals as written, values that
    come from parameters/outputs replaced by a plausible value of the setting's kind."""
    settings, doc = app_settings(parsed)
    kinds = {s.name: s.kind for s in SPEC}
    env: dict[str, str] = {}
    for name, value in settings.items():
        allowed = decorator(doc["parameters"][value], "allowed") if isinstance(value, str) and value in doc.get("parameters", {}) else None
        if is_literal(value, doc):
            env[name] = value
        elif allowed:
            env[name] = str(allowed[0])
        elif kinds.get(name) == "int":
            env[name] = "1"
        else:
            env[name] = f"https://{name.lower().replace('_', '-')}.example.invalid/"
    return env


def setting_active(setting: Any, env: dict[str, str]) -> bool:
    if setting.when is None:
        return True
    other, wanted = setting.when
    return env.get(other, "").strip().lower() == wanted


# ---------------------------------------------------------------- parse + checkov
def test_every_bicep_file_parses_with_pycep(parsed: dict[str, dict[str, Any]]) -> None:
    files = {str(p.relative_to(BICEP_DIR)) for p in BICEP_DIR.rglob("*.bicep")}
    assert files == set(parsed)
    assert "main.bicep" in files and len(files) > 5
    failures = {name: entry["error"] for name, entry in parsed.items() if not entry["ok"]}
    assert failures == {}


@pytest.mark.slow
def test_checkov_reports_zero_failed_checks(check_infra_run: subprocess.CompletedProcess[str]) -> None:
    output = check_infra_run.stdout + check_infra_run.stderr
    summary = re.search(r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", output)
    assert summary, f"no checkov summary in output:\n{output[-3000:]}"
    passed, failed, _skipped = (int(n) for n in summary.groups())
    assert failed == 0, output[-5000:]
    assert passed > 20
    assert check_infra_run.returncode == 0, output[-3000:]


def test_every_checkov_skip_sits_in_a_resource_and_gives_its_reason(parsed: dict[str, dict[str, Any]]) -> None:
    skip = re.compile(r"checkov:skip=([A-Z0-9_]+)(.*)")
    for path in BICEP_DIR.rglob("*.bicep"):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            found = skip.search(line)
            if not found:
                continue
            reason = found.group(2).lstrip(":").strip()
            assert line.strip().startswith("//") and len(reason) >= 30, f"{path.name}:{number} skip without a reason"
            # The comment must be inside the resource block (checkov reads skips there only).
            opener = next(lines[i] for i in range(number - 2, -1, -1) if lines[i].strip() and not lines[i].strip().startswith("//"))
            assert opener.startswith("resource ") and opener.rstrip().endswith("{"), f"{path.name}:{number} skip outside a resource"


# ---------------------------------------------------------------- settings
def test_function_app_sets_every_setting_the_code_reads_in_azure(parsed: dict[str, dict[str, Any]]) -> None:
    settings, _ = app_settings(parsed)
    env = azure_environment(parsed)
    spec_names = {s.name for s in SPEC}
    assert LOCAL_ONLY_SETTINGS <= spec_names
    assert all(not s.required for s in SPEC if s.name in LOCAL_ONLY_SETTINGS)

    required_in_azure = {s.name for s in SPEC if setting_active(s, env) and s.name not in LOCAL_ONLY_SETTINGS}
    missing = sorted(required_in_azure - set(settings))
    assert missing == []
    # Each local-only connection string has its identity-based form in SPEC, and that form is set.
    for connection in sorted(LOCAL_ONLY_SETTINGS & {"STORAGE", "UPLOADS_STORAGE"}):
        assert f"{connection}__blobServiceUri" in spec_names & required_in_azure & set(settings), connection


def test_function_app_sets_no_local_only_or_secret_setting(parsed: dict[str, dict[str, Any]]) -> None:
    settings, _ = app_settings(parsed)
    env = azure_environment(parsed)
    local_only = {s.name for s in SPEC if not setting_active(s, env)} | LOCAL_ONLY_SETTINGS
    assert {"SQLITE_PATH", "KEK_PEM_PATH", "EMAIL_OUTBOX_DIR", "DEV_ISSUER_KEY_PATH"} <= local_only
    assert sorted(local_only & set(settings)) == []
    # Identity only: no connection strings or keys anywhere in the module.
    text = (MODULES / "function-app.bicep").read_text()
    for secret_marker in ("AccountKey=", "SharedAccessSignature", "listKeys(", "AccessKey", "primaryMasterKey"):
        assert secret_marker not in text
    assert "AzureWebJobsStorage" not in settings  # the host uses AzureWebJobsStorage__* identity settings
    assert "FUNCTIONS_WORKER_RUNTIME" not in settings  # Flex Consumption takes the runtime from functionAppConfig


def test_azure_settings_load_and_select_the_azure_adapters(parsed: dict[str, dict[str, Any]]) -> None:
    env = azure_environment(parsed)
    settings = Settings.from_env({**env, "WEBSITE_INSTANCE_ID": "instance-1"})
    assert settings.running_in_azure
    assert settings.metadata_store == "cosmos"
    assert settings.kek_provider == "keyvault"
    assert settings.email_sender == "acs"
    assert settings.dev_issuer_enabled is False
    assert settings.storage_connection_string is None and settings.cosmos_key is None
    assert settings.storage_blob_uri and settings.storage_queue_uri and settings.storage_client_id
    assert settings.uploads_connection_string is None and settings.uploads_blob_uri


def test_environment_setting_takes_only_azure_environment_names(parsed: dict[str, dict[str, Any]]) -> None:
    settings, doc = app_settings(parsed)
    assert settings["SKINVAULT_ENVIRONMENT"] == "environmentName"
    allowed = decorator(doc["parameters"]["environmentName"], "allowed")
    choices = next(s.choices for s in SPEC if s.name == "SKINVAULT_ENVIRONMENT")
    assert allowed == ["dev", "prod"] and set(allowed) <= set(choices)
    main = bicep(parsed, "main.bicep")
    assert decorator(main["parameters"]["environmentName"], "allowed") == allowed


def test_identity_based_connections_name_credential_and_client_id(parsed: dict[str, dict[str, Any]]) -> None:
    settings, doc = app_settings(parsed)
    prefixes = {name.split("__")[0] for name in settings if re.search(r"__(blobServiceUri|queueServiceUri|accountEndpoint)$", name)}
    assert {"STORAGE", "UPLOADS_STORAGE", "COSMOS", "AzureWebJobsStorage"} <= prefixes
    credential_values = {resolve(settings[f"{prefix}__credential"], doc) for prefix in prefixes}
    assert credential_values == {"managedidentity"}
    client_ids = {settings[f"{prefix}__clientId"] for prefix in prefixes} | {settings["AZURE_CLIENT_ID"]}
    assert client_ids == {"identityClientId"}
    assert "Authorization=AAD" in settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]


def test_function_app_is_flex_python_311_https_tls12_with_user_assigned_identity(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/function-app.bicep")
    plan = body(resources_of_type(doc, "Microsoft.Web/serverfarms")["plan"])
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    site = body(resources_of_type(doc, "Microsoft.Web/sites")["site"])
    assert site["identity"]["type"] == "UserAssigned"
    props = site["properties"]
    assert props["httpsOnly"] is True
    assert props["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}
    assert props["functionAppConfig"]["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    assert props["siteConfig"]["minTlsVersion"] in ("1.2", "1.3")
    monitoring = bicep(parsed, "modules/monitoring.bicep")
    assert body(monitoring["resources"]["appInsights"])["properties"]["DisableLocalAuth"] is True


def test_flex_app_sets_no_ftps_state_and_turns_ftp_off_through_publishing_policies(parsed: dict[str, dict[str, Any]]) -> None:
    # ARM error 51021: Flex Consumption rejects siteConfig.ftpsState.
    doc = bicep(parsed, "modules/function-app.bicep")
    site = body(resources_of_type(doc, "Microsoft.Web/sites")["site"])
    assert "ftpsState" not in site["properties"]["siteConfig"]
    policies = resources_of_type(doc, "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    assert {body(p)["name"]: body(p)["properties"]["allow"] for p in policies.values()} == {"ftp": False, "scm": False}
    # checkov's FTPS check is skipped on the site, with the reason.
    text = (MODULES / "function-app.bicep").read_text()
    assert re.search(r"checkov:skip=CKV_AZURE_78:.*51021", text)


def test_flex_app_scales_to_at_least_40_instances_everywhere(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/function-app.bicep")
    assert decorator(doc["parameters"]["maximumInstanceCount"], "min_value") >= 40
    main = bicep(parsed, "main.bicep")
    assert decorator(main["parameters"]["functionMaximumInstanceCount"], "min_value") >= 40
    for env_name in ("dev", "prod"):
        values = json.loads((BICEP_DIR / "parameters" / f"main.{env_name}.parameters.json").read_text())["parameters"]
        assert values.get("functionMaximumInstanceCount", {"value": 40})["value"] >= 40, env_name


def test_host_storage_has_table_setting_endpoint_and_role_for_diagnostic_events(parsed: dict[str, dict[str, Any]]) -> None:
    settings, _ = app_settings(parsed)
    assert settings["AzureWebJobsStorage__tableServiceUri"] == "storageTableEndpoint"
    assert module_wiring(parsed, "functionApp")["storageTableEndpoint"] == "storage.outputs.TABLE_ENDPOINT"
    wiring = module_wiring(parsed, "tableEndpoint")
    assert (wiring["targetResourceId"], wiring["groupId"], wiring["privateDnsZoneId"]) == (
        "storage.outputs.RESOURCE_ID",
        "table",
        "network.outputs.TABLE_DNS_ZONE_ID",
    )
    network = bicep(parsed, "modules/network.bicep")
    zones = network["variables"]["privateDnsZoneNames"]["value"]
    index = next(i for i, zone in enumerate(zones) if zone.startswith("privatelink.table."))
    assert re.search(rf"output TABLE_DNS_ZONE_ID string = dnsZones\[{index}\]\.id", (MODULES / "network.bicep").read_text())
    assert "table" in decorator(bicep(parsed, "modules/private-endpoint.bicep")["parameters"]["groupId"], "allowed")
    rbac = bicep(parsed, "modules/rbac.bicep")
    table = body(rbac["resources"]["appTableData"])
    assert (table["scope"], role_name(rbac["resources"]["appTableData"])) == ("storage", "storageTableDataContributor")
    assert "tableEndpoint" in body(bicep(parsed, "main.bicep")["modules"]["functionApp"])["dependsOn"]


def test_function_app_cors_allows_exactly_the_two_web_apps(parsed: dict[str, dict[str, Any]]) -> None:
    main = bicep(parsed, "main.bicep")
    cors = body(main["modules"]["functionApp"])["params"]["corsAllowedOrigins"]
    assert cors == ["clinicianOrigin", "patientOrigin"]
    variables = json.dumps(main["variables"]["clinicianOrigin"]) + json.dumps(main["variables"]["patientOrigin"])
    assert "staticWebApp" in variables and "patientWebApp" in variables
    assert "corsAllowedOrigins" not in main["parameters"]  # no way to widen it by a parameter
    site = body(resources_of_type(bicep(parsed, "modules/function-app.bicep"), "Microsoft.Web/sites")["site"])
    assert site["properties"]["siteConfig"]["cors"] == {"allowedOrigins": "corsAllowedOrigins", "supportCredentials": False}


def test_no_static_web_app_linked_backend_and_a_static_web_app_per_web_app(parsed: dict[str, dict[str, Any]]) -> None:
    for name, entry in parsed.items():
        kinds = [r["type"].lower() for r in entry["json"].get("resources", {}).values()]
        assert not any("linkedbackends" in k or k.endswith("staticsites/userprovidedfunctionapps") for k in kinds), name
    main = bicep(parsed, "main.bicep")
    swa = {name: body(m)["params"] for name, m in main["modules"].items() if m["detail"]["path"] == "modules/static-web-app.bicep"}
    assert {params["serviceName"] for params in swa.values()} == {"web", "patient"}
    outputs = main["outputs"]
    for output in ("STATIC_WEB_APP_NAME", "STATIC_WEB_APP_URL", "PATIENT_WEB_APP_NAME", "PATIENT_WEB_APP_URL", "API_BASE_URL"):
        assert output in outputs, output
    assert dotted(outputs["PATIENT_WEB_APP_URL"]["value"]) == "patientWebApp.outputs.URL"
    assert dotted(outputs["API_BASE_URL"]["value"]) == "functionApp.outputs.URL"


# ---------------------------------------------------------------- storage
def module_wiring(parsed: dict[str, dict[str, Any]], module: str) -> dict[str, str]:
    """main.bicep's params for one module, references rendered as a.b.c."""
    params = body(bicep(parsed, "main.bicep")["modules"][module])["params"]
    return {key: dotted(value) if is_reference(value) else value for key, value in params.items()}


def test_main_storage_declares_the_code_containers_except_uploads_and_queues_with_poison_queues(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/storage.bicep")
    data_containers = resolve("dataContainerNames", doc)
    assert sorted(data_containers) == sorted(set(BLOB_CONTAINERS) - {UPLOADS})
    containers = resources_of_type(doc, "Microsoft.Storage/storageAccounts/blobServices/containers")
    (container,) = containers.values()
    assert container["config"]["loop_type"]["detail"]["array_name"] == "allContainerNames"
    all_containers = resolve("allContainerNames", doc)
    assert set(data_containers) <= set(all_containers)
    assert UPLOADS not in all_containers  # phones upload to the ingest account, never to this one
    assert body(container)["properties"]["publicAccess"] == "None"

    queue_names = resolve("queueNames", doc)
    for queue in QUEUES:
        assert queue in queue_names and f"{queue}-poison" in queue_names
    (queue_resource,) = resources_of_type(doc, "Microsoft.Storage/storageAccounts/queueServices/queues").values()
    assert queue_resource["config"]["loop_type"]["detail"]["array_name"] == "queueNames"


def test_ingest_storage_declares_only_the_blob_trigger_container_and_its_poison_queue(parsed: dict[str, dict[str, Any]]) -> None:
    trigger = blob_trigger()
    trigger_container = trigger["path"].split("/")[0]
    doc = bicep(parsed, "modules/ingest-storage.bicep")
    containers = resources_of_type(doc, "Microsoft.Storage/storageAccounts/blobServices/containers")
    assert [resolve(body(c)["name"], doc) for c in containers.values()] == [UPLOADS] == [trigger_container]
    assert all(body(c)["properties"]["publicAccess"] == "None" for c in containers.values())
    queues = resources_of_type(doc, "Microsoft.Storage/storageAccounts/queueServices/queues")
    assert [resolve(body(q)["name"], doc) for q in queues.values()] == [BLOB_TRIGGER_POISON_QUEUE]
    # Every container the code uses is declared on exactly one of the two accounts.
    main_containers = resolve("dataContainerNames", bicep(parsed, "modules/storage.bicep"))
    assert sorted([UPLOADS, *main_containers]) == sorted(BLOB_CONTAINERS)


def test_storage_is_identity_only_private_and_recoverable(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/storage.bicep")
    props = body(doc["resources"]["storage"])["properties"]
    assert props["allowSharedKeyAccess"] is False
    assert props["allowBlobPublicAccess"] is False
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert props["networkAcls"]["bypass"] == "AzureServices"
    blob_service = body(doc["resources"]["blobService"])["properties"]
    assert blob_service["isVersioningEnabled"] is True
    assert blob_service["deleteRetentionPolicy"]["enabled"] is True


def test_ingest_storage_is_identity_only_open_to_phones_and_keeps_nothing_long(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/ingest-storage.bicep")
    props = body(doc["resources"]["storage"])["properties"]
    # SAS only: shared keys off (so only user-delegation SAS exist), no anonymous reads.
    assert props["allowSharedKeyAccess"] is False
    assert props["allowBlobPublicAccess"] is False
    assert props["defaultToOAuthAuthentication"] is True
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True
    # Phones on any network reach it.
    assert props["publicNetworkAccess"] == "Enabled"
    assert props["networkAcls"]["defaultAction"] == "Allow"
    # Transient: no versions, short soft delete.
    blob_service = body(doc["resources"]["blobService"])["properties"]
    assert blob_service["isVersioningEnabled"] is False
    assert blob_service["deleteRetentionPolicy"]["enabled"] is True
    soft_delete = doc["parameters"][blob_service["deleteRetentionPolicy"]["days"]]
    assert soft_delete["default"] <= 1 and decorator(soft_delete, "max_value") <= 7
    # CORS: the patient web app's origin only, PUT only (the native app needs none).
    rules = blob_service["cors"]["corsRules"]["operator"]["operands"]
    assert rules["true_value"] == []  # no origins, no rule
    (rule,) = rules["false_value"]
    assert rule["allowedOrigins"] == "uploadCorsOrigins" and rule["allowedMethods"] == ["PUT"]
    assert body(bicep(parsed, "main.bicep")["modules"]["ingestStorage"])["params"]["uploadCorsOrigins"] == ["patientOrigin"]
    main = bicep(parsed, "main.bicep")
    assert set(main["parameters"]) >= {"uploadSoftDeleteDays", "staleUploadDays"}
    assert module_wiring(parsed, "ingestStorage")["softDeleteDays"] == "uploadSoftDeleteDays"


def lifecycle_deletes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """prefix -> the baseBlob delete action of the enabled lifecycle rule for it."""
    rules = body(doc["resources"]["lifecycle"])["properties"]["policy"]["rules"]
    return {
        prefix: rule["definition"]["actions"]["baseBlob"]["delete"]
        for rule in rules
        if rule["enabled"] and "delete" in rule["definition"]["actions"].get("baseBlob", {})
        for prefix in resolve(rule["definition"]["filters"].get("prefixMatch", []), doc)
    }


def test_lifecycle_rules_remove_stale_uploads_on_ingest_and_expired_exports_on_main(parsed: dict[str, dict[str, Any]]) -> None:
    main_rules = lifecycle_deletes(bicep(parsed, "modules/storage.bicep"))
    assert f"{EXPORTS}/" in main_rules and f"{UPLOADS}/" not in main_rules
    ingest = bicep(parsed, "modules/ingest-storage.bicep")
    ingest_rules = lifecycle_deletes(ingest)
    assert list(ingest_rules) == [f"{UPLOADS}/"]
    days = ingest_rules[f"{UPLOADS}/"]["daysAfterModificationGreaterThan"]
    assert ingest["parameters"][days]["default"] == 1
    assert bicep(parsed, "main.bicep")["parameters"]["staleUploadDays"]["default"] == 1
    assert module_wiring(parsed, "ingestStorage")["staleUploadDays"] == "staleUploadDays"


def test_app_reaches_both_storage_accounts_through_private_endpoints(parsed: dict[str, dict[str, Any]]) -> None:
    main = bicep(parsed, "main.bicep")
    endpoints = {
        (wiring["targetResourceId"], wiring["groupId"])
        for name, module in main["modules"].items()
        if module["detail"]["path"] == "modules/private-endpoint.bicep"
        for wiring in [module_wiring(parsed, name)]
    }
    for account in ("storage", "ingestStorage"):
        assert {(f"{account}.outputs.RESOURCE_ID", "blob"), (f"{account}.outputs.RESOURCE_ID", "queue")} <= endpoints, account


# ---------------------------------------------------------------- Cosmos DB
def test_cosmos_declares_each_code_container_with_its_partition_key(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/cosmos.bicep")
    declared = {
        body(res)["name"]: body(res)["properties"]["resource"]["partitionKey"]["paths"]
        for res in resources_of_type(doc, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers").values()
    }
    assert declared == {spec.name: [f"/{spec.partition_key}"] for spec in CONTAINERS}
    assert doc["parameters"]["databaseName"]["default"] == "skinvault"
    assert bicep(parsed, "main.bicep")["parameters"]["cosmosDatabaseName"]["default"] == "skinvault"


def composite_indexes(doc: dict[str, Any], container: str) -> list[list[tuple[str, str]]]:
    for res in resources_of_type(doc, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers").values():
        if body(res)["name"] == container:
            policy = body(res)["properties"]["resource"]["indexingPolicy"]
            return [[(entry["path"], entry["order"]) for entry in combo] for combo in policy.get("compositeIndexes", [])]
    raise AssertionError(f"no container {container}")


@pytest.mark.parametrize(
    ("container", "filters", "order_by"),
    [
        ("patients", ["type"], "capturedAt"),
        ("patients", ["type", "folderId"], "capturedAt"),
        ("patients", ["type"], "createdAt"),
        ("clinics", ["type"], "lastActivityAt"),
        ("audit", ["type"], "at"),
    ],
)
def test_cosmos_has_a_composite_index_for_each_filtered_newest_first_query(
    parsed: dict[str, dict[str, Any]], container: str, filters: list[str], order_by: str
) -> None:
    wanted = [(f"/{name}", "ascending") for name in filters] + [(f"/{order_by}", "descending")]
    assert wanted in composite_indexes(bicep(parsed, "modules/cosmos.bicep"), container)


def test_cosmos_has_no_keys_continuous_backup_and_capacity_from_a_parameter(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/cosmos.bicep")
    props = body(doc["resources"]["account"])["properties"]
    assert props["disableLocalAuth"] is True
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["backupPolicy"]["type"] == "Continuous"
    assert decorator(doc["parameters"]["capacityMode"], "allowed") == ["serverless", "autoscale"]
    main = bicep(parsed, "main.bicep")
    assert decorator(main["parameters"]["cosmosCapacityMode"], "allowed") == ["serverless", "autoscale"]


# ---------------------------------------------------------------- Key Vault
def test_key_vault_is_premium_rbac_purge_protected_private(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/keyvault.bicep")
    props = body(doc["resources"]["vault"])["properties"]
    assert props["sku"]["name"] == "premium"
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    assert props["softDeleteRetentionInDays"] == 90
    assert props["publicNetworkAccess"] == "Disabled"


def test_kek_is_rsa_hsm_3072_plus_wrap_unwrap_only_with_rotation_and_notify(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/kek.bicep")
    key = body(doc["resources"]["kek"])["properties"]
    assert key["kty"] == "RSA-HSM"
    assert min(decorator(doc["parameters"]["keySize"], "allowed")) >= 3072
    assert sorted(key["keyOps"]) == ["unwrapKey", "wrapKey"]
    actions = {action["action"]["type"]: action["trigger"] for action in key["rotationPolicy"]["lifetimeActions"]}
    assert set(actions) == {"rotate", "notify"}
    assert all("timeBeforeExpiry" in trigger for trigger in actions.values())


# ---------------------------------------------------------------- Event Grid
def blob_trigger() -> dict[str, str]:
    """The blob-triggered function as the code declares it (read with ast, not imported)."""
    for path in (ROOT / "functions").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "blob_trigger":
                    kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in deco.keywords if kw.arg}
                    return {"function": node.name, **kwargs}
    raise AssertionError("no blob trigger in functions/")


def test_event_subscription_sends_uploads_blob_created_to_the_blob_extension_webhook(parsed: dict[str, dict[str, Any]]) -> None:
    trigger = blob_trigger()
    assert trigger["source"] == "EventGrid"
    container = trigger["path"].split("/")[0]
    doc = bicep(parsed, "modules/eventgrid-subscription.bicep")
    assert doc["parameters"]["functionName"]["default"] == trigger["function"]
    endpoint = doc["variables"]["endpointUrl"]["value"]
    assert "/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}" in endpoint
    assert "blobs_extension" in json.dumps(doc["variables"]["blobsExtensionKey"])
    sub = body(resources_of_type(doc, "Microsoft.EventGrid/systemTopics/eventSubscriptions")["subscription"])["properties"]
    assert sub["filter"]["includedEventTypes"] == ["Microsoft.Storage.BlobCreated"]
    assert sub["filter"]["subjectBeginsWith"] == "/blobServices/default/containers/${uploadsContainerName}/"
    # The size is checked before the worker reads a byte: larger blobs are never delivered.
    assert sub["filter"]["advancedFilters"] == [{"operatorType": "NumberLessThanOrEquals", "key": "data.contentLength", "value": "maxUploadBytes"}]
    assert module_wiring(parsed, "eventSubscription")["maxUploadBytes"] == "maxUploadBytes"
    assert module_wiring(parsed, "functionApp")["maxUploadBytes"] == "maxUploadBytes"  # the same limit as MAX_UPLOAD_BYTES
    assert module_wiring(parsed, "eventSubscription")["uploadsContainerName"] == "ingestStorage.outputs.UPLOADS_CONTAINER_NAME"
    ingest = bicep(parsed, "modules/ingest-storage.bicep")
    assert resolve("uploadsContainerName", ingest) == container == UPLOADS
    assert dotted(ingest["outputs"]["UPLOADS_CONTAINER_NAME"]["value"]) == "uploadsContainerName"
    # Undeliverable events go to the main (private) account's dead-letter container.
    assert module_wiring(parsed, "eventSubscription")["deadLetterStorageAccountId"] == "storage.outputs.RESOURCE_ID"


def test_event_grid_topic_sits_on_the_ingest_account(parsed: dict[str, dict[str, Any]]) -> None:
    system_topic = body(bicep(parsed, "modules/eventgrid.bicep")["resources"]["systemTopic"])["properties"]
    assert system_topic["topicType"] == "Microsoft.Storage.StorageAccounts"
    assert system_topic["source"] == "storageAccountId"
    assert module_wiring(parsed, "eventGrid")["storageAccountId"] == "ingestStorage.outputs.RESOURCE_ID"
    assert module_wiring(parsed, "eventSubscription")["systemTopicName"] == "eventGrid.outputs.NAME"


def test_blob_trigger_connection_is_identity_based_on_the_ingest_account(parsed: dict[str, dict[str, Any]]) -> None:
    connection = blob_trigger()["connection"]
    assert connection in LOCAL_ONLY_SETTINGS  # its connection-string form is for Azurite only
    settings, doc = app_settings(parsed)
    assert connection not in settings
    # With __blobServiceUri the blob extension also needs __queueServiceUri (poison queue), even
    # with source EventGrid; __credential and __clientId select the user-assigned identity.
    for suffix in ("blobServiceUri", "queueServiceUri", "credential", "clientId"):
        assert f"{connection}__{suffix}" in settings, suffix
    assert resolve(settings[f"{connection}__credential"], doc) == "managedidentity"
    assert settings[f"{connection}__clientId"] == "identityClientId"
    wiring = module_wiring(parsed, "functionApp")
    assert wiring[settings[f"{connection}__blobServiceUri"]] == "ingestStorage.outputs.BLOB_ENDPOINT"
    assert wiring[settings[f"{connection}__queueServiceUri"]] == "ingestStorage.outputs.QUEUE_ENDPOINT"
    # and the code's main storage connection points at the main account
    assert wiring[settings["STORAGE__blobServiceUri"]] == "storage.outputs.BLOB_ENDPOINT"
    outputs = bicep(parsed, "main.bicep")["outputs"]
    assert dotted(outputs["INGEST_STORAGE_ACCOUNT_NAME"]["value"]) == "ingestStorage.outputs.NAME"
    assert dotted(outputs["INGEST_STORAGE_BLOB_ENDPOINT"]["value"]) == "ingestStorage.outputs.BLOB_ENDPOINT"


# ---------------------------------------------------------------- RBAC
ROLE_IDS = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": "Key Vault Crypto Service Encryption User",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
}
BROAD_ROLE_IDS = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
    "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
    "00482a5a-887f-4fb3-b363-3b7fe8e74483",  # Key Vault Administrator
    "12338af0-0e69-4776-bea7-57ae8d297424",  # Key Vault Crypto User (sign, decrypt, ...)
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",  # Key Vault Crypto Officer: the deployer only, never the app
}
KEY_VAULT_CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"


# rbac.bicep holds every role assignment but one: the deployer's, which must exist before the KEK
# (rbac.bicep scopes the app's KEK role to that key, so it runs after the key).
RBAC_MODULES = {"modules/rbac.bicep", "modules/rbac-deployer.bicep"}


def test_role_assignments_live_in_the_rbac_modules_with_a_reason_each(parsed: dict[str, dict[str, Any]]) -> None:
    for name, entry in parsed.items():
        doc = entry["json"]
        kinds = [r["type"] for r in doc.get("resources", {}).values() if not r.get("existing")]
        if name not in RBAC_MODULES:
            assert not any(k.endswith(("roleAssignments", "sqlRoleAssignments")) for k in kinds), name
    for module in RBAC_MODULES:
        text = (BICEP_DIR / module).read_text().splitlines()
        for number, line in enumerate(text):
            if re.match(r"resource \w+ '[^']*(roleAssignments|sqlRoleAssignments)@", line):
                assert text[number - 1].startswith("// "), f"{module}:{number + 1} has no reason comment"


def test_deployer_gets_key_vault_crypto_officer_on_the_vault_before_the_kek_is_created(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/rbac-deployer.bicep")
    (assignment,) = resources_of_type(doc, "Microsoft.Authorization/roleAssignments").values()
    props = body(assignment)["properties"]
    assert body(assignment)["scope"] == "vault" and props["principalId"] == "deployerPrincipalId"
    assert resolve(props["roleDefinitionId"]["function"]["parameters"]["resource_name_1"], doc) == KEY_VAULT_CRYPTO_OFFICER
    main = bicep(parsed, "main.bicep")
    assert "deployerRbac" in body(main["modules"]["kek"])["dependsOn"]
    assert module_wiring(parsed, "deployerRbac")["keyVaultName"] == "keyVault.outputs.NAME"
    assert module_wiring(parsed, "kek")["vaultName"] == "keyVault.outputs.NAME"
    # The key is no longer created in the vault module (which runs before the assignment).
    assert not resources_of_type(bicep(parsed, "modules/keyvault.bicep"), "Microsoft.KeyVault/vaults/keys")
    assert resources_of_type(bicep(parsed, "modules/kek.bicep"), "Microsoft.KeyVault/vaults/keys")
    # The app's wrap/unwrap role is scoped to the key that module made (so it runs after it).
    assert module_wiring(parsed, "rbac")["kekName"] == "kek.outputs.KEY_NAME"
    assert main["parameters"]["deployerPrincipalId"].get("default") is None  # required: no silent fallback


def role_name(assignment: dict[str, Any]) -> str:
    role_id = body(assignment)["properties"]["roleDefinitionId"]
    if "function" not in role_id:  # a custom role defined in the same file (acsEmailSenderRole.id)
        return dotted(role_id)
    return dotted(role_id["function"]["parameters"]["resource_name_1"]).removeprefix("roles.")


def test_app_identity_uses_uploads_and_the_trigger_poison_queue_on_the_ingest_account(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/rbac.bicep")
    assignments = resources_of_type(doc, "Microsoft.Authorization/roleAssignments")
    on_ingest = {
        (body(a)["scope"], role_name(a))
        for a in assignments.values()
        if body(a)["properties"]["principalId"] == "appPrincipalId" and "ingest" in body(a)["scope"].lower()
    }
    # Blob Data Contributor: read/write/delete uploads + generateUserDelegationKey (the upload SAS);
    # Queue Data Contributor on the poison queue only, not on the account.
    assert on_ingest == {("ingestStorage", "storageBlobDataOwner"), ("ingestPoisonQueue", "storageQueueDataContributor")}
    assert body(doc["resources"]["ingestStorage"])["name"] == "ingestStorageAccountName"
    assert body(doc["resources"]["ingestPoisonQueue"])["name"] == "${ingestStorageAccountName}/default/${ingestPoisonQueueName}"
    wiring = module_wiring(parsed, "rbac")
    assert wiring["ingestStorageAccountName"] == "ingestStorage.outputs.NAME"
    assert wiring["ingestPoisonQueueName"] == "ingestStorage.outputs.POISON_QUEUE_NAME"
    ingest = bicep(parsed, "modules/ingest-storage.bicep")
    assert resolve(dotted(ingest["outputs"]["POISON_QUEUE_NAME"]["value"]), ingest) == BLOB_TRIGGER_POISON_QUEUE


def test_role_assignments_are_least_privilege(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/rbac.bicep")
    role_ids = set(doc["variables"]["roles"]["value"].values())
    assert role_ids == set(ROLE_IDS)
    assert not role_ids & BROAD_ROLE_IDS
    # Blob Data Owner (which the Functions docs require for host storage and a blob trigger's
    # identity-based connection) only on the two storage accounts, only for the app.
    owners = {
        (body(a)["scope"], body(a)["properties"]["principalId"])
        for a in resources_of_type(doc, "Microsoft.Authorization/roleAssignments").values()
        if role_name(a) == "storageBlobDataOwner"
    }
    assert owners == {("storage", "appPrincipalId"), ("ingestStorage", "appPrincipalId")}
    cosmos_roles = resources_of_type(doc, "Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions")
    actions = {name: body(r)["properties"]["permissions"][0]["dataActions"] for name, r in cosmos_roles.items()}
    assert not any(a.endswith("/*") and "items" not in a for acts in actions.values() for a in acts)
    audit = actions["cosmosAuditAppend"]
    assert not any(a.endswith(("items/*", "items/replace", "items/delete", "items/upsert")) for a in audit)
    assert resources_of_type(doc, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
    acs_role = body(resources_of_type(doc, "Microsoft.Authorization/roleDefinitions")["acsEmailSenderRole"])
    assert all(a.startswith("Microsoft.Communication/") for a in acs_role["properties"]["permissions"][0]["actions"])


def test_custom_role_definitions_are_unique_per_deployment_scope(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/rbac.bicep")
    text = (MODULES / "rbac.bicep").read_text()
    for name, resource in resources_of_type(doc, "Microsoft.Authorization/roleDefinitions").items():
        config = body(resource)
        guid_args = json.dumps(config["name"])
        assert '"guid"' in guid_args and "resource_group" in guid_args, name  # guid(resourceGroup().id, <name>)
        # the display name (unique per tenant) carries a token of the same scope
        assert re.search(r"roleName: '[^']*\$\{uniqueString\(resourceGroup\(\)\.id\)\}'", text), name
    for name, resource in resources_of_type(doc, "Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions").items():
        assert '"guid"' in json.dumps(body(resource)["name"]), name


# ---------------------------------------------------------------- email
def test_email_links_the_azure_managed_domain_first_and_a_custom_domain_only_once_verified(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/communication.bicep")
    domains = resources_of_type(doc, "Microsoft.Communication/emailServices/domains")
    managed = body(domains["managedDomain"])
    assert managed["name"] == "AzureManagedDomain" and managed["properties"]["domainManagement"] == "AzureManaged"
    assert "condition" not in domains["managedDomain"]["config"]  # always there, ready at once
    assert domains["customDomain"]["config"]["condition"] == "createCustomDomain"
    assert body(domains["customDomain"])["properties"]["domainManagement"] == "CustomerManaged"
    senders = resources_of_type(doc, "Microsoft.Communication/emailServices/domains/senderUsernames")
    assert "condition" not in senders["managedSender"]["config"] and senders["customSender"]["config"]["condition"] == "useCustomDomain"
    assert all(body(d)["properties"]["userEngagementTracking"] == "Disabled" for d in domains.values())
    assert json.dumps(doc["variables"]["useCustomDomain"]).count("customDomainVerified") == 1
    assert doc["parameters"]["customDomainVerified"]["default"] is False
    linked = body(doc["resources"]["communicationService"])["properties"]["linkedDomains"]["operator"]
    assert linked["type"] == "conditional" and linked["operands"]["condition"] == "useCustomDomain"
    verified = [dotted(d) for d in linked["operands"]["true_value"]]
    unverified = [dotted(d) for d in linked["operands"]["false_value"]]
    assert verified == ["managedDomain.id", "customDomain.id"] and unverified == ["managedDomain.id"]
    assert "useCustomDomain" in json.dumps(doc["outputs"]["EMAIL_FROM_ADDRESS"]["value"])
    assert module_wiring(parsed, "communication")["customDomainVerified"] == "emailCustomDomainVerified"


# ---------------------------------------------------------------- alerts, workbook, backups
ALERT_QUESTIONS = {
    "poison": "poison",
    "pending uploads": "skinvault.uploads.pending_overdue",
    "5xx rate": "resultCode) >= 500",
    "export failures": "outcome=failed",
}


def test_alerts_page_the_ops_email_on_each_failure_the_ops_team_must_see(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/alerts.bicep")
    (group,) = resources_of_type(doc, "Microsoft.Insights/actionGroups").values()
    receivers = body(group)["properties"]["emailReceivers"]
    assert [r["emailAddress"] for r in receivers] == ["alertEmailAddress"]
    assert module_wiring(parsed, "alerts")["alertEmailAddress"] == "alertEmailAddress"
    assert bicep(parsed, "main.bicep")["parameters"]["alertEmailAddress"].get("default") is None

    log_queries = " ".join(alert["query"] for alert in doc["variables"]["logAlerts"]["value"])
    for question, marker in ALERT_QUESTIONS.items():
        assert marker in log_queries, question
    (rules,) = resources_of_type(doc, "Microsoft.Insights/scheduledQueryRules").values()
    assert rules["config"]["loop_type"]["detail"]["array_name"] == "logAlerts"
    assert [dotted(g) for g in body(rules)["properties"]["actions"]["actionGroups"]] == ["actionGroup.id"]

    metric_alerts = resources_of_type(doc, "Microsoft.Insights/metricAlerts")
    criteria = {name: body(a)["properties"]["criteria"] for name, a in metric_alerts.items()}
    metrics = {(c["allOf"][0]["metricNamespace"], c["allOf"][0]["metricName"]): c["allOf"][0] for c in criteria.values() if "allOf" in c}
    assert metrics[("Microsoft.KeyVault/vaults", "ServiceApiResult")]["dimensions"][0]["values"] == ["429"]
    assert ("Microsoft.KeyVault/vaults", "ServiceApiLatency") in metrics
    assert metrics[("Microsoft.DocumentDB/databaseAccounts", "TotalRequests")]["dimensions"][0]["values"] == ["429"]
    health = criteria["healthFailing"]
    assert health["'odata.type'"] == "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria"
    test = body(doc["resources"]["healthTest"])["properties"]
    assert test["Request"]["RequestUrl"] == "${functionAppUrl}/api/health" and test["ValidationRules"]["ExpectedHttpStatusCode"] == 200
    assert module_wiring(parsed, "alerts")["functionAppUrl"] == "functionApp.outputs.URL"
    for name, alert in metric_alerts.items():
        assert [dotted(a["actionGroupId"]) for a in body(alert)["properties"]["actions"]] == ["actionGroup.id"], name


def test_alert_queries_read_codes_and_counts_never_patient_fields(parsed: dict[str, dict[str, Any]]) -> None:
    queries = [a["query"] for a in bicep(parsed, "modules/alerts.bicep")["variables"]["logAlerts"]["value"]]
    queries += [c["query"] for c in bicep(parsed, "modules/workbook.bicep")["variables"]["charts"]["value"]]
    for query in queries:
        for field in ("nhsNumber", "displayName", "notes", "email", "customDimensions.name", "user_AuthenticatedId"):
            assert field not in query, (field, query)


def test_workbook_shows_uploads_timing_rejections_exports_and_shares(parsed: dict[str, dict[str, Any]]) -> None:
    doc = bicep(parsed, "modules/workbook.bicep")
    charts = {chart["name"]: chart["query"] for chart in doc["variables"]["charts"]["value"]}
    assert set(charts) == {"uploads-per-hour", "upload-to-ready", "rejections-by-reason", "exports", "shares"}
    assert "bin(timestamp, 1h)" in charts["uploads-per-hour"]
    assert "percentile" in charts["upload-to-ready"]
    assert "reason" in charts["rejections-by-reason"]
    assert "request_export" in charts["exports"] and "build_export" in charts["exports"]
    assert "granted" in charts["shares"] and "revoked" in charts["shares"]
    # Every function a query names is a function of the app (renaming one breaks the workbook).
    functions = {
        node.name for path in (ROOT / "functions").glob("*.py") for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.FunctionDef)
    }
    named = set(re.findall(r'(?:operation_Name|name|fn) == "(\w+)"', " ".join(charts.values())))
    assert {"start_upload", "request_export", "grant_share", "revoke_share"} <= named
    assert named <= functions, named - functions
    logged = " ".join(path.read_text() for path in (ROOT / "functions").glob("*.py"))
    assert '"process_upload finished status=' in logged and '"build_export id=%s outcome=' in logged
    workbook = body(doc["resources"]["workbook"])
    assert workbook["properties"]["category"] == "workbook"
    assert "workbookContent" in json.dumps(workbook["properties"]["serializedData"])
    assert '"guid"' in json.dumps(workbook["name"])


def test_metadata_and_blobs_can_be_restored(parsed: dict[str, dict[str, Any]]) -> None:
    cosmos = body(bicep(parsed, "modules/cosmos.bicep")["resources"]["account"])["properties"]["backupPolicy"]
    assert cosmos["type"] == "Continuous" and cosmos["continuousModeProperties"]["tier"] == "backupTier"
    doc = bicep(parsed, "modules/storage.bicep")
    blob_service = body(doc["resources"]["blobService"])["properties"]
    assert blob_service["isVersioningEnabled"] is True
    assert blob_service["deleteRetentionPolicy"] == {"enabled": True, "days": "softDeleteDays"}
    assert blob_service["containerDeleteRetentionPolicy"]["enabled"] is True
    assert blob_service["changeFeed"]["enabled"] is True
    assert blob_service["restorePolicy"]["enabled"] is True  # point in time, one day inside soft delete
    assert decorator(doc["parameters"]["softDeleteDays"], "min_value") >= 2
    readme = (ROOT / "infra" / "README.md").read_text().lower()
    for phrase in ("point in time", "az cosmosdb restore", "cosmos__accountendpoint", "reconciliation", "make backup", "make restore"):
        assert phrase in readme, phrase


# ---------------------------------------------------------------- conventions
def test_every_parameter_has_a_description(parsed: dict[str, dict[str, Any]]) -> None:
    undescribed = [
        f"{name}:{param}"
        for name, entry in parsed.items()
        for param, spec in bicep(parsed, name).get("parameters", {}).items()
        if not decorator(spec, "description")
    ]
    assert undescribed == []


def test_outputs_are_upper_snake_case(parsed: dict[str, dict[str, Any]]) -> None:
    bad = [
        f"{name}:{out}"
        for name, entry in parsed.items()
        for out in bicep(parsed, name).get("outputs", {})
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", out)
    ]
    assert bad == []


def test_resources_with_a_location_carry_tags(parsed: dict[str, dict[str, Any]]) -> None:
    untagged = [
        f"{name}:{res_name}"
        for name, entry in parsed.items()
        for res_name, res in bicep(parsed, name).get("resources", {}).items()
        if not res.get("existing") and "location" in body(res) and "tags" not in body(res)
    ]
    assert untagged == []


def test_main_defaults_to_uksouth_and_names_come_from_abbreviations_and_a_token(parsed: dict[str, dict[str, Any]]) -> None:
    main = bicep(parsed, "main.bicep")
    assert main["parameters"]["location"]["default"] == "uksouth"
    assert all(region.startswith("uk") for region in decorator(main["parameters"]["location"], "allowed"))
    assert '"unique_string"' in json.dumps(main["variables"]["resourceToken"])
    abbreviations = json.loads((BICEP_DIR / "abbreviations.json").read_text())
    named = 0
    for module_name, module in main["modules"].items():
        params = body(module)["params"]
        for key, raw in params.items():
            value = resolve(raw, main)
            if key == "name":
                assert isinstance(value, str) and value.startswith("${abbrs."), f"{module_name}.name is not from the abbreviations table"
            if isinstance(value, str) and value.startswith("${abbrs."):
                abbr = value.split("}")[0].removeprefix("${abbrs.")
                assert abbr in abbreviations, f"{module_name}.{key}"
                assert "resourceToken" in value or ".outputs.NAME" in value, f"{module_name}.{key}: {value}"
                named += 1
    assert named >= 10


def test_each_module_file_is_used_by_main() -> None:
    text = (BICEP_DIR / "main.bicep").read_text()
    unused = [path.name for path in MODULES.glob("*.bicep") if f"'modules/{path.name}'" not in text]
    assert unused == []


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_parameter_files_fit_main_bicep(parsed: dict[str, dict[str, Any]], env_name: str) -> None:
    main_params = bicep(parsed, "main.bicep")["parameters"]
    values = json.loads((BICEP_DIR / "parameters" / f"main.{env_name}.parameters.json").read_text())["parameters"]
    assert set(values) <= set(main_params), set(values) - set(main_params)
    required = {name for name, spec in main_params.items() if "default" not in spec or spec["default"] is None}
    assert required <= set(values), required - set(values)
    assert values["environmentName"]["value"] == env_name
    for name, entry in values.items():
        allowed = decorator(main_params[name], "allowed")
        if allowed is not None:
            assert entry["value"] in allowed, name


def test_infra_readme_covers_deploy_post_deploy_rotation_and_teardown() -> None:
    text = (ROOT / "infra" / "README.md").read_text().lower()
    for phrase in ("az deployment sub create", "prerequisites", "verif", "app registration", "rotate", "tear down"):
        assert phrase in text, phrase
