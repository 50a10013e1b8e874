"""One clock: file names people read carry UK dates and times."""

from shared_code.domain.common import uk_file_stamp


def test_file_names_use_the_uk_date_and_time():
    assert uk_file_stamp("2026-06-30T23:30:00Z") == "2026-07-01_00-30-00"  # BST
    assert uk_file_stamp("2026-12-01T23:30:00Z", with_time=False) == "2026-12-01"  # GMT
    assert uk_file_stamp(None) == "" and uk_file_stamp("nonsense") == ""
