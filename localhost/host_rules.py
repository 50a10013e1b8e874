"""The Functions host's start-up rules for the functions an app declares, applied by the local host.

Copied from Azure/azure-functions-host (src/WebJobs.Script):
- Utility.ValidateName: a function name matches ``^[a-z][a-z0-9_\\-]{0,127}$`` (any case) and is not ``host``;
- ScriptHost.ValidateHttpFunction: an HTTP route (the function name when none is given), trimmed of
  ``/`` and lower-cased, must not start with ``admin`` or ``runtime`` ("The specified route conflicts
  with one or more built in routes");
- ScriptHost.ValidateFunction: names are unique, and two HTTP functions may not declare the same
  route (compared without ``/`` at the ends, any case) with a method in common (no methods = all);
- the Flex Consumption plan runs blob triggers only with ``source="EventGrid"``;
- a timer's schedule is a six-field NCRONTAB expression (localhost/ncrontab.py).

Azure logs a violation and drops that function (its routes answer 404 while the rest load). The
local host is stricter: it refuses to start and names every offending function, so the mistake is
seen on a laptop rather than after a deployment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from localhost.ncrontab import Schedule, ScheduleError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]{0,127}$", re.IGNORECASE)
RESERVED_ROUTE_PREFIXES = ("admin", "runtime")


@dataclass(frozen=True)
class Violation:
    function: str
    message: str

    def __str__(self) -> str:
        return f"function '{self.function}': {self.message}"


class HostRuleError(RuntimeError):
    """The app breaks a rule the Functions host applies at start-up."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__("; ".join(str(v) for v in violations))


@dataclass(frozen=True)
class _Http:
    name: str
    route: str
    methods: frozenset[str]  # empty: every method


def _methods(trigger: dict[str, Any]) -> frozenset[str]:
    return frozenset(str(getattr(m, "value", m)).upper() for m in (trigger.get("methods") or ()))


def check_functions(functions: Iterable[Any]) -> list[Violation]:
    """Every rule the host would apply to these indexed functions (``app.get_functions()``)."""
    violations: list[Violation] = []
    seen_names: set[str] = set()
    http: list[_Http] = []
    for fn in functions:
        name = fn.get_function_name()
        if not NAME_PATTERN.match(name) or name.lower() == "host":
            violations.append(Violation(name, f"'{name}' is not a valid function name (letters, digits, '_' or '-', starting with a letter)"))
        if name.lower() in seen_names:
            violations.append(Violation(name, f"the function name '{name}' must be unique within the function app"))
        seen_names.add(name.lower())
        trigger = fn.get_trigger().get_dict_repr()
        kind = trigger.get("type")
        if kind == "httpTrigger":
            route = (trigger.get("route") or name).strip("/")
            if route.lower().startswith(RESERVED_ROUTE_PREFIXES):
                violations.append(Violation(name, f"the route '{route}' conflicts with one or more built in routes (admin, runtime)"))
            this = _Http(name, route, _methods(trigger))
            for other in http:
                if other.route.lower() == route.lower() and (not this.methods or not other.methods or this.methods & other.methods):
                    violations.append(Violation(name, f"the route '{route}' conflicts with the route defined by function '{other.name}'"))
            http.append(this)
        elif kind == "blobTrigger" and str(trigger.get("source") or "").lower() != "eventgrid":
            violations.append(Violation(name, "the Flex Consumption plan only runs blob triggers with source='EventGrid'"))
        elif kind == "timerTrigger":
            schedule = str(trigger.get("schedule") or "")
            if not (schedule.startswith("%") and schedule.endswith("%")):  # an app setting: checked when the timer starts
                try:
                    Schedule.parse(schedule)
                except ScheduleError as exc:
                    violations.append(Violation(name, f"timer schedule: {exc}"))
    return violations


def enforce(functions: Iterable[Any]) -> None:
    """Raise HostRuleError naming each function the host would refuse."""
    violations = check_functions(functions)
    if violations:
        raise HostRuleError(violations)
