// JPEG metadata parsing and stripping (patient/js/lib/jpeg-meta.js).
// Fixtures were made by Pillow (tests/support/images.py make_photo): a phone-like JPEG with
// EXIF (make/model/software, lens, orientation 6, DateTimeOriginal + offset, GPS), XMP with the
// position, an sRGB ICC profile and a comment; and a progressive JPEG with EXIF and a comment.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { checkJpeg, exifToIso, isJpeg, isoToExif, JpegUnreadable, minimalExifSegment, readExif, stripAllButCaptureTime } from '../js/lib/jpeg-meta.js';

const fixture = (name) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const PHONE = fixture('phone-gps-exif.jpg');
const PROGRESSIVE = fixture('progressive.jpg');
const latin1 = (bytes) => Buffer.from(bytes).toString('latin1');

/** Marker bytes of every segment before the first scan, e.g. ['e0', 'e1', 'db', ...]. */
function markers(bytes) {
  const seen = [];
  let pos = 2;
  while (pos < bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1];
    seen.push(marker.toString(16));
    if (marker === 0xda) break;
    pos += 2 + ((bytes[pos + 2] << 8) | bytes[pos + 3]);
  }
  return seen;
}

/** The entropy-coded image data (from the first SOS to EOI), to prove it is copied unchanged. */
function imageData(bytes) {
  const text = latin1(bytes);
  return text.slice(text.indexOf('\xff\xda'), text.lastIndexOf('\xff\xd9') + 2);
}

describe('readExif', () => {
  test('reads orientation and capture time with its offset', () => {
    assert.deepEqual(readExif(PHONE), { orientation: 6, captureTime: '2026-03-04T05:06:07+01:00' });
  });

  test('a capture time without offset stays wall-clock time', () => {
    assert.deepEqual(readExif(PROGRESSIVE), { orientation: 3, captureTime: '2025-12-31T23:59:58' });
  });

  test('a JPEG without EXIF reads as nulls', () => {
    const bare = stripAllButCaptureTime(PHONE, null);
    const withoutApp1 = new Uint8Array([...bare.subarray(0, 2), ...bare.subarray(2 + ((bare[4] << 8) | bare[5]) + 2)]);
    assert.deepEqual(readExif(withoutApp1), { orientation: null, captureTime: null });
  });

  test('a damaged EXIF block reads as absent, not as an error', () => {
    const damaged = PHONE.slice();
    const at = latin1(damaged).indexOf('Exif\0\0') + 6;
    damaged[at] = 0x58; // byte order "XI"
    assert.deepEqual(readExif(damaged), { orientation: null, captureTime: null });
  });
});

describe('stripAllButCaptureTime', () => {
  const stripped = stripAllButCaptureTime(PHONE, readExif(PHONE).captureTime);

  test('removes GPS, camera, lens, XMP, ICC and the comment', () => {
    const text = latin1(stripped);
    for (const gone of ['SkinVaultTestCam', 'Phone 15', 'TestOS', 'Back camera', 'GPSLatitude', 'xmpmeta', 'ICC_PROFILE', 'http://ns.adobe.com', 'JFIF']) {
      assert.ok(!text.includes(gone), `${gone} survived`);
    }
    assert.ok(latin1(PHONE).includes('SkinVaultTestCam') && latin1(PHONE).includes('ICC_PROFILE'), 'the fixture carries what must go');
  });

  test('keeps only one APP segment: the minimal EXIF', () => {
    const before = markers(PHONE);
    assert.ok(before.filter((m) => m.startsWith('e')).length >= 3, before.join(' '));
    const after = markers(stripped);
    assert.deepEqual(after.filter((m) => m.startsWith('e') || m === 'fe'), ['e1']);
  });

  test('writes Orientation 1 and the capture time with offset', () => {
    assert.deepEqual(readExif(stripped), { orientation: 1, captureTime: '2026-03-04T05:06:07+01:00' });
  });

  test('copies the image data byte for byte', () => {
    assert.equal(imageData(stripped), imageData(PHONE));
    assert.ok(stripped.length < PHONE.length);
  });

  test('without a capture time only Orientation remains', () => {
    const none = stripAllButCaptureTime(PHONE, null);
    assert.deepEqual(readExif(none), { orientation: 1, captureTime: null });
  });

  test('progressive JPEG: metadata between scans and after the end are removed too', () => {
    const text = latin1(PROGRESSIVE);
    const secondScan = text.indexOf('\xff\xda', text.indexOf('\xff\xda') + 2);
    assert.ok(secondScan > 0);
    const com = [0xff, 0xfe, 0x00, 0x0c, ...Buffer.from('serial=XYZ')];
    const trailer = Buffer.from('MotionPhoto_Data ftypmp42 secret video');
    const doctored = new Uint8Array([...PROGRESSIVE.subarray(0, secondScan), ...com, ...PROGRESSIVE.subarray(secondScan), ...trailer]);
    const out = stripAllButCaptureTime(doctored, readExif(doctored).captureTime);
    const outText = latin1(out);
    assert.ok(!outText.includes('serial=XYZ') && !outText.includes('MotionPhoto') && !outText.includes('SkinVaultTestCam'));
    assert.equal(out[out.length - 2], 0xff);
    assert.equal(out[out.length - 1], 0xd9);
    assert.equal(imageData(out), imageData(PROGRESSIVE));
    assert.deepEqual(readExif(out), { orientation: 1, captureTime: '2025-12-31T23:59:58' });
  });

  test('known answer: the minimal EXIF segment, byte for byte', () => {
    const segment = minimalExifSegment('2026-03-04T05:06:07+01:00');
    assert.equal(
      Buffer.from(segment).toString('hex'),
      'ffe10074' + '457869660000' + '4d4d002a00000008' +
        '0002' + '011200030000000100010000' + '876900040000000100000026' + '00000000' +
        '0003' + '900000070000000430323331' + '900300020000001400000050' + '901100020000000700000064' + '00000000' +
        Buffer.from('2026:03:04 05:06:07\0+01:00\0\0').toString('hex'),
    );
  });
});

describe('refusals', () => {
  test('not a JPEG', () => {
    assert.equal(isJpeg(new TextEncoder().encode('GIF89a')), false);
    assert.throws(() => stripAllButCaptureTime(new TextEncoder().encode('GIF89a........'), null), JpegUnreadable);
    assert.throws(() => readExif(new Uint8Array(0)), JpegUnreadable);
  });

  test('a truncated JPEG', () => {
    assert.equal(isJpeg(PHONE), true);
    for (const cut of [3, 40, PHONE.length / 2, PHONE.length - 1]) {
      assert.throws(() => stripAllButCaptureTime(PHONE.subarray(0, Math.floor(cut)), null), JpegUnreadable, `cut at ${cut}`);
    }
  });

  test('checkJpeg reads the whole file; readExif only up to the image data', () => {
    const cut = PHONE.subarray(0, PHONE.length - 10); // damaged inside the image data
    assert.throws(() => checkJpeg(cut), JpegUnreadable);
    assert.equal(readExif(cut).orientation, 6);
    checkJpeg(PHONE);
    checkJpeg(PROGRESSIVE);
  });

  test('the message is plain English, the detail is for developers', () => {
    try {
      stripAllButCaptureTime(PHONE.subarray(0, 100), null);
      assert.fail('should throw');
    } catch (error) {
      assert.match(error.message, /can't be read as a photo/);
      assert.match(error.detail, /truncated|bad segment/);
    }
  });

  test('a capture time that is not a real time is refused', () => {
    assert.throws(() => stripAllButCaptureTime(PHONE, '2026-02-30T10:00:00'), RangeError);
    assert.throws(() => stripAllButCaptureTime(PHONE, 'yesterday'), RangeError);
  });
});

describe('time conversions', () => {
  test('EXIF to ISO and back', () => {
    assert.equal(exifToIso('2026:03:04 05:06:07', '-05:30'), '2026-03-04T05:06:07-05:30');
    assert.equal(exifToIso('2026:03:04 05:06:07', null), '2026-03-04T05:06:07');
    assert.equal(exifToIso('    :  :     :  :  ', null), null);
    assert.equal(exifToIso('2026:13:04 05:06:07', null), null);
    assert.deepEqual(isoToExif('2026-03-04T05:06:07Z'), { dateTime: '2026:03:04 05:06:07', offset: '+00:00' });
    assert.deepEqual(isoToExif('2026-03-04T05:06:07.123'), { dateTime: '2026:03:04 05:06:07', offset: null });
  });
});
