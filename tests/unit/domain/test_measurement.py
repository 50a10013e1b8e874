"""Measuring on a photo: millimetres from a ruler calibration."""

import pytest

from shared_code.domain.errors import RuleViolation
from shared_code.domain.measurement import Line, measure_mm


def test_length_scales_by_the_ruler():
    ruler = Line(0, 0, 300, 400)  # 500 px along the ruler
    assert measure_mm(ruler, 10, Line(0, 0, 0, 125)) == 2.5
    assert measure_mm(Line(0, 0, 100, 0), 5, Line(10, 10, 70, 90)) == 5.0  # a 100 px line at 20 px per mm


def test_a_calibration_too_short_to_trust_or_an_empty_line_is_refused():
    with pytest.raises(RuleViolation):
        measure_mm(Line(0, 0, 5, 0), 10, Line(0, 0, 50, 0))
    with pytest.raises(RuleViolation):
        measure_mm(Line(0, 0, 100, 0), 10, Line(3, 3, 3, 3))
