"""Research enrolment is research use: intimate-site folders and under-18s cannot take part."""

import pytest

from shared_code.domain.errors import RuleViolation
from shared_code.ports import PATIENTS
from shared_code.services.safeguards import check_research_enrolment


def test_research_enrolment_refuses_intimate_sites_and_under_18s(services):
    services.store.create(PATIENTS, {"id": "pt-1", "patientId": "pt-1", "type": "profile", "dateOfBirth": "1980-01-01"})
    check_research_enrolment(services, "pt-1", [{"bodySite": "left-forearm"}])
    with pytest.raises(RuleViolation):
        check_research_enrolment(services, "pt-1", [{"bodySite": "genitals"}])
    services.store.create(PATIENTS, {"id": "pt-2", "patientId": "pt-2", "type": "profile", "dateOfBirth": "2015-01-01"})
    with pytest.raises(RuleViolation):
        check_research_enrolment(services, "pt-2", [{"bodySite": "left-forearm"}])
