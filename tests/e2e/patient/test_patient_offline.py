"""Offline: a photo taken with no signal waits, encrypted, in IndexedDB ("Waiting to send"), and is
sent by itself when the phone is back online. Nothing on the phone is a plaintext image."""

from __future__ import annotations

import base64
import re

import pytest

from tests.e2e.patient.helpers import new_folder, serve_demo_users, sign_in, unique_patient, wait_photo_status, wait_view
from tests.support.images import make_photo

pytestmark = pytest.mark.browser

# Every value in every IndexedDB store, flattened to bytes (Blobs read, typed arrays as they are).
DUMP_INDEXEDDB = """
async () => {
  const out = {};
  const enc = new TextEncoder();
  const dbs = await indexedDB.databases();
  async function flatten(v, parts) {
    if (v === null || v === undefined) return;
    if (v instanceof Blob) { parts.push(new Uint8Array(await v.arrayBuffer())); return; }
    if (v instanceof ArrayBuffer) { parts.push(new Uint8Array(v)); return; }
    if (ArrayBuffer.isView(v)) { parts.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); return; }
    if (typeof v === 'string') { parts.push(enc.encode(v)); return; }
    if (typeof v !== 'object') { parts.push(enc.encode(String(v))); return; }
    for (const x of Object.values(v)) await flatten(x, parts);
  }
  for (const info of dbs) {
    const db = await new Promise((res, rej) => { const r = indexedDB.open(info.name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    for (const store of db.objectStoreNames) {
      const rows = await new Promise((res, rej) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const values = [];
      for (const row of rows) {
        const parts = [];
        await flatten(row, parts);
        const total = parts.reduce((n, p) => n + p.length, 0);
        const all = new Uint8Array(total);
        let o = 0;
        for (const p of parts) { all.set(p, o); o += p.length; }
        let bin = '';
        for (let i = 0; i < all.length; i += 0x8000) bin += String.fromCharCode(...all.subarray(i, i + 0x8000));
        values.push(btoa(bin));
      }
      out[`${info.name}/${store}`] = values;
    }
    db.close();
  }
  return out;
}
"""

# A JPEG starts FF D8 FF then a marker (APP0 JFIF, APP1 Exif, DQT...): four bytes, so chance bytes in
# kilobytes of ciphertext do not match.
JPEG_START = re.compile(rb"\xff\xd8\xff[\xe0-\xef\xdb\xc0\xc4\xfe]")


def dump_indexeddb(page) -> dict[str, list[bytes]]:
    return {store: [base64.b64decode(v) for v in values] for store, values in page.evaluate(DUMP_INDEXEDDB).items()}


def test_photo_taken_offline_waits_encrypted_then_sends_itself_when_online(page, phone, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    new_folder(page, "Eczema on right hand", site="right-hand")
    page.set_input_files("#gallery", files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": make_photo(1000, 750, seed=5, gps=False)}])
    wait_photo_status(page, "ready")

    page.get_by_role("button", name="Take photo").click()
    wait_view(page, "camera")
    page.wait_for_selector(".app-camera__stage[data-camera='live']")
    phone.set_offline(True)
    page.wait_for_selector("#offline-banner:not([hidden])")
    page.get_by_test_id("shutter").click()
    page.get_by_text("Photo kept on this phone").wait_for()
    outbox = page.get_by_test_id("outbox")
    outbox.get_by_role("heading", name="Waiting to send (1)").wait_for()
    assert outbox.locator("progress").count() == 1
    assert "Waiting for a connection" in outbox.inner_text()

    stores = dump_indexeddb(page)
    assert any(name.endswith("/outbox") and values for name, values in stores.items()), stores.keys()
    for name, values in stores.items():
        for value in values:
            assert not JPEG_START.search(value), f"a plaintext JPEG is stored in IndexedDB {name}"
            assert b"JFIF" not in value and b"Exif\x00\x00" not in value, f"JPEG headers are stored in IndexedDB {name}"
            assert b"Eczema" not in value and b"right-hand" not in value, f"folder details are stored in the clear in {name}"
    assert page.evaluate("() => localStorage.length") == 0, "nothing (no token) is kept in localStorage"

    # still offline: the folder opens from the sealed copy, and the camera guide still shows
    page.get_by_role("link", name="Done").click()
    wait_view(page, "folder")
    page.get_by_test_id("offline-copy").wait_for()
    page.get_by_role("button", name="Take photo").click()
    wait_view(page, "camera")
    page.wait_for_selector(".app-camera__stage[data-overlay='shown'] img.app-camera__overlay[data-state='loaded']")

    phone.set_offline(False)
    page.get_by_test_id("outbox").wait_for(state="hidden", timeout=30000)
    page.get_by_role("link", name="Done").click()
    wait_view(page, "folder")
    wait_photo_status(page, "ready", count=2)
    assert dump_indexeddb(page).get("skinvault-patient/outbox") == [], "the ciphertext leaves the phone once it is sent"
