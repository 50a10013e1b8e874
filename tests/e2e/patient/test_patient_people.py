"""Several people on one phone: each has their own passcode and local data; a wrong passcode costs
a try, the fifth wipes that person's local data (never the cloud); signing out removes it."""

from __future__ import annotations

import pytest

from tests.e2e.patient.helpers import new_folder, serve_demo_users, sign_in, unique_patient, wait_view

pytestmark = pytest.mark.browser

PEOPLE_ON_PHONE = """
async () => {
  const db = await new Promise((res, rej) => { const r = indexedDB.open('skinvault-patient'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const count = (store) => new Promise((res) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result); });
  const people = await count('people');
  const records = await count('records');
  db.close();
  return {people: people.map((p) => p.sub), recordOwners: [...new Set(records.map((r) => r.sub))]};
}
"""


def unlock(page, passcode: str) -> None:
    wait_view(page, "unlock")
    page.get_by_label("Passcode", exact=True).fill(passcode)
    page.get_by_role("button", name="Unlock").click()


def test_switch_person_unlock_with_passcode_and_wipe_after_five_wrong_tries(page, stack):
    alex, sam = unique_patient("Alex"), unique_patient("Sam")
    serve_demo_users(page, [alex, sam])
    sign_in(page, stack.base_url, alex, "1234")
    new_folder(page, "Alex mole")

    # a second person on the same phone
    page.get_by_role("link", name="Switch person").click()
    wait_view(page, "people")
    page.get_by_role("link", name="Add another person").click()
    wait_view(page, "signin")
    page.get_by_role("button", name=f"Sign in as {sam['name']}").click()
    wait_view(page, "passcode")
    page.get_by_label("Choose a passcode").fill("987654")
    page.get_by_label("Enter the passcode again").fill("987654")
    page.get_by_role("button", name="Save passcode").click()
    wait_view(page, "home")
    assert "Alex mole" not in page.inner_text("main"), "Sam does not see Alex's folders"
    assert page.locator("#account-name").inner_text() == sam["name"]

    # back to Alex: a wrong passcode costs a try, the right one unlocks
    page.get_by_role("link", name="Switch person").click()
    wait_view(page, "people")
    page.get_by_role("button", name=f"Use as {alex['name']}").click()
    unlock(page, "0000")
    page.get_by_text("That passcode is not right. You have 4 more tries.").wait_for()
    page.get_by_label("Passcode", exact=True).fill("1234")
    page.get_by_role("button", name="Unlock").click()
    wait_view(page, "home")
    assert "Alex mole" in page.inner_text("main")

    # the key lives in memory only: a reload locks the app again
    page.reload()
    unlock(page, "1234")
    wait_view(page, "home")

    # five wrong passcodes for Sam wipe Sam's local data, and only Sam's
    page.get_by_role("link", name="Switch person").click()
    page.get_by_role("button", name=f"Use as {sam['name']}").click()
    for tries_left in (4, 3, 2):
        unlock(page, "111111")
        page.get_by_text(f"You have {tries_left} more tries").wait_for()
    unlock(page, "111111")
    page.get_by_text("You have 1 more try before").wait_for()
    unlock(page, "111111")
    wait_view(page, "signin")
    page.get_by_test_id("wiped").wait_for()
    left = page.evaluate(PEOPLE_ON_PHONE)
    assert left["people"] == [alex["sub"]] and set(left["recordOwners"]) <= {alex["sub"]}

    # nothing in the cloud was touched: Sam signs in again and sets a new passcode
    sign_in(page, stack.base_url, sam, "2468")

    # signing out removes that person's local data
    page.get_by_role("button", name="Sign out").click()
    wait_view(page, "signin")
    page.get_by_test_id("signed-out").wait_for()
    left = page.evaluate(PEOPLE_ON_PHONE)
    assert sam["sub"] not in left["people"] and sam["sub"] not in left["recordOwners"]
    assert alex["sub"] in left["people"]


def test_an_ended_session_asks_to_sign_in_again_and_comes_back_to_the_same_screen(page, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    folder_id = new_folder(page, "Mole on back", site="back")
    page.evaluate(
        "(sub) => { const k = `skinvault.token.${sub}`; const t = JSON.parse(sessionStorage.getItem(k)); t.expiresAt = Date.now() - 1000; sessionStorage.setItem(k, JSON.stringify(t)); }",
        user["sub"],
    )
    page.get_by_role("link", name="Edit or archive this folder").click()
    wait_view(page, "signin")
    page.get_by_test_id("session-expired").wait_for()
    page.get_by_role("button", name=f"Sign in as {user['name']}").click()
    wait_view(page, "edit-folder")
    assert page.url.endswith(f"?page=edit-folder&folder={folder_id}")
    assert page.get_by_label("Folder name").input_value() == "Mole on back"
