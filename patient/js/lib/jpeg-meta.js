// JPEG metadata on the phone, before anything is stored or sent: pure byte parsing, no DOM.
//
// readExif(bytes)                      -> {orientation, captureTime}
// stripAllButCaptureTime(jpeg, time)   -> a JPEG whose only metadata is a minimal EXIF block with
//                                         DateTimeOriginal (+ OffsetTimeOriginal) and Orientation=1
// isJpeg(bytes), checkJpeg(bytes)
//
// What stripping removes: every APP0-APP15 segment and every COM segment, wherever it is (also
// between progressive scans), and anything after the end-of-image marker. That is all EXIF (GPS,
// camera make/model/serials, lens, software, the embedded thumbnail), XMP (and extended XMP),
// JFIF/JFXX (which can carry a thumbnail), MPF multi-picture data, maker notes, Photoshop IRB/IPTC,
// vendor trailers and motion-photo videos appended after the image.
//
// ICC profiles (APP2 "ICC_PROFILE") are removed too. A profile is not needed: photo.js re-encodes
// through a canvas, whose pixels are already sRGB (the colour space a JPEG without a profile is
// read in). And a profile can identify the device: vendors' profiles name the maker, model and
// creation date (Apple's "Display P3" carries 'appl' and a date, Samsung and Google theirs).
//
// Orientation is written as 1 because the caller has already turned the pixels upright
// (createImageBitmap with imageOrientation "from-image").
//
// captureTime is the EXIF wall-clock time as ISO 8601: "2026-03-04T05:06:07" or, when the camera
// wrote OffsetTimeOriginal, "2026-03-04T05:06:07+01:00" (the server's convention too).

/** A file that is not a JPEG this module can read (truncated, damaged or not a JPEG at all). */
export class JpegUnreadable extends Error {
  constructor(detail) {
    super("This file can't be read as a photo. Try taking the photo again, or choose a different photo.");
    this.name = 'JpegUnreadable';
    this.detail = detail; // for developers and tests; never shown to the patient
  }
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const COM = 0xfe;
const TAG_ORIENTATION = 0x0112;
const TAG_EXIF_IFD = 0x8769;
const TAG_EXIF_VERSION = 0x9000;
const TAG_DATE_TIME_ORIGINAL = 0x9003;
const TAG_OFFSET_TIME_ORIGINAL = 0x9011;
const TYPE_ASCII = 2;
const TYPE_SHORT = 3;
const TYPE_LONG = 4;
const TYPE_UNDEFINED = 7;
const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"

export function isJpeg(bytes) {
  return bytes instanceof Uint8Array && bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === SOI && bytes[2] === 0xff;
}

const isApp = (marker) => marker >= 0xe0 && marker <= 0xef;
const isRst = (marker) => marker >= 0xd0 && marker <= 0xd7;
const standalone = (marker) => marker === SOI || marker === EOI || isRst(marker) || marker === 0x01;

/**
 * Walk the segments of a JPEG. Calls visit({marker, start, end, dataStart}) for each marker
 * segment (start..end are the bytes to copy to keep it, marker included) and
 * visit({entropy: true, start, end}) for entropy-coded data after each SOS. Stops after EOI.
 * Throws JpegUnreadable on anything malformed.
 */
function walk(bytes, visit, { untilScan = false } = {}) {
  if (!isJpeg(bytes)) throw new JpegUnreadable('not a JPEG (no start-of-image marker)');
  let pos = 2;
  let sawFrame = false;
  while (true) {
    if (pos >= bytes.length) throw new JpegUnreadable('truncated: no end-of-image marker');
    if (bytes[pos] !== 0xff) throw new JpegUnreadable(`expected a marker at byte ${pos}`);
    while (pos < bytes.length && bytes[pos] === 0xff) pos += 1; // fill bytes
    if (pos >= bytes.length) throw new JpegUnreadable('truncated in a marker');
    const marker = bytes[pos];
    const start = pos - 1;
    pos += 1;
    if (marker === EOI) {
      if (!sawFrame) throw new JpegUnreadable('no image frame');
      visit({ marker, start, end: pos, dataStart: pos });
      return;
    }
    if (standalone(marker) || marker === 0x00) throw new JpegUnreadable(`unexpected marker 0x${marker.toString(16)}`);
    if (pos + 2 > bytes.length) throw new JpegUnreadable('truncated segment length');
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2 || pos + length > bytes.length) throw new JpegUnreadable(`bad segment length at byte ${pos}`);
    const end = pos + length;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) sawFrame = true;
    visit({ marker, start, end, dataStart: pos + 2 });
    pos = end;
    if (marker === SOS) {
      if (!sawFrame) throw new JpegUnreadable('scan before frame header');
      if (untilScan) return;
      const dataStart = pos;
      while (true) {
        pos = bytes.indexOf(0xff, pos); // entropy-coded data: only 0xFF can start a marker
        if (pos < 0 || pos + 1 >= bytes.length) throw new JpegUnreadable('truncated image data');
        const next = bytes[pos + 1];
        if (next === 0xff) pos += 1; // fill byte
        else if (next === 0x00 || isRst(next)) pos += 2; // stuffed 0xFF, or a restart marker
        else break;
      }
      visit({ entropy: true, start: dataStart, end: pos });
    }
  }
}

/** Throws JpegUnreadable unless the whole file is a well-formed JPEG (segments, scans, end marker). */
export function checkJpeg(bytes) {
  walk(bytes, () => {});
}

function isExifSegment(bytes, seg) {
  if (seg.marker !== 0xe1 || seg.end - seg.dataStart < EXIF_HEADER.length + 8) return false;
  return EXIF_HEADER.every((b, i) => bytes[seg.dataStart + i] === b);
}

/**
 * {orientation: 1-8 or null, captureTime: ISO string or null}. Damaged EXIF reads as absent.
 * Reads the segments up to the first scan only (a file damaged further on is stripAllButCaptureTime's
 * to refuse, or the decoder's).
 */
export function readExif(bytes) {
  let result = { orientation: null, captureTime: null };
  let found = false;
  walk(
    bytes,
    (seg) => {
      if (found || seg.entropy || !isExifSegment(bytes, seg)) return;
      found = true;
      try {
        result = parseTiff(bytes.subarray(seg.dataStart + EXIF_HEADER.length, seg.end));
      } catch {
        result = { orientation: null, captureTime: null };
      }
    },
    { untilScan: true }, // EXIF comes before the image data: the rest need not be read
  );
  return result;
}

function parseTiff(tiff) {
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) throw new Error('bad byte order');
  const le = order === 0x4949;
  if (view.getUint16(2, le) !== 42) throw new Error('bad TIFF magic');
  const u16 = (at) => view.getUint16(at, le);
  const u32 = (at) => view.getUint32(at, le);

  const readIfd = (offset) => {
    const entries = new Map();
    const count = u16(offset);
    for (let i = 0; i < count; i += 1) {
      const at = offset + 2 + i * 12;
      entries.set(u16(at), { type: u16(at + 2), count: u32(at + 4), valueAt: at + 8 });
    }
    return entries;
  };
  const ascii = (entry) => {
    if (!entry || entry.type !== TYPE_ASCII) return null;
    const at = entry.count <= 4 ? entry.valueAt : u32(entry.valueAt);
    if (at + entry.count > tiff.length) return null;
    let text = '';
    for (let i = 0; i < entry.count && tiff[at + i] !== 0; i += 1) text += String.fromCharCode(tiff[at + i]);
    return text;
  };

  const ifd0 = readIfd(u32(4));
  let orientation = null;
  const o = ifd0.get(TAG_ORIENTATION);
  if (o && o.type === TYPE_SHORT) {
    const value = u16(o.valueAt);
    if (value >= 1 && value <= 8) orientation = value;
  }
  let captureTime = null;
  const pointer = ifd0.get(TAG_EXIF_IFD);
  if (pointer && (pointer.type === TYPE_LONG || pointer.type === 13)) {
    const sub = readIfd(u32(pointer.valueAt));
    captureTime = exifToIso(ascii(sub.get(TAG_DATE_TIME_ORIGINAL)), ascii(sub.get(TAG_OFFSET_TIME_ORIGINAL)));
  }
  return { orientation, captureTime };
}

const EXIF_TIME = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;
const OFFSET = /^[+-](\d{2}):(\d{2})$/;

function realDateTime(y, mo, d, h, mi, s) {
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return y >= 1900 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
}

function validOffset(offset) {
  const m = OFFSET.exec(offset || '');
  return Boolean(m) && Number(m[1]) <= 14 && Number(m[2]) < 60;
}

/** "YYYY:MM:DD HH:MM:SS" (+ "+HH:MM") -> ISO 8601, or null when absent or not a real time. */
export function exifToIso(dateTime, offset) {
  const m = EXIF_TIME.exec(dateTime || '');
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  if (!realDateTime(y, mo, d, h, mi, s)) return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
  return validOffset(offset) ? iso + offset : iso;
}

/** ISO 8601 -> {dateTime: "YYYY:MM:DD HH:MM:SS", offset: "+HH:MM" | null}; "Z" becomes "+00:00". */
export function isoToExif(iso) {
  const m = ISO_TIME.exec(iso || '');
  if (!m) throw new RangeError(`captureTime must be an ISO 8601 date and time, not ${JSON.stringify(iso)}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (!realDateTime(y, mo, d, h, mi, s)) throw new RangeError(`captureTime ${iso} is not a real date and time`);
  let offset = m[7] || null;
  if (offset === 'Z') offset = '+00:00';
  if (offset && !validOffset(offset)) throw new RangeError(`captureTime ${iso} has an impossible offset`);
  return { dateTime: `${m[1]}:${m[2]}:${m[3]} ${m[4]}:${m[5]}:${m[6]}`, offset };
}

/**
 * The minimal EXIF APP1 segment (marker included): IFD0 with Orientation=1 and, when captureTime
 * is given, an Exif IFD with ExifVersion 0231, DateTimeOriginal and OffsetTimeOriginal.
 * Big-endian TIFF; nothing else.
 */
export function minimalExifSegment(captureTime) {
  const time = captureTime ? isoToExif(captureTime) : null;
  const entries0 = [[TAG_ORIENTATION, TYPE_SHORT, 1, 1]];
  const exifEntries = [];
  if (time) {
    exifEntries.push([TAG_EXIF_VERSION, TYPE_UNDEFINED, 4, [0x30, 0x32, 0x33, 0x31]]); // "0231"
    exifEntries.push([TAG_DATE_TIME_ORIGINAL, TYPE_ASCII, 20, time.dateTime]);
    if (time.offset) exifEntries.push([TAG_OFFSET_TIME_ORIGINAL, TYPE_ASCII, 7, time.offset]);
    entries0.push([TAG_EXIF_IFD, TYPE_LONG, 1, 0]); // offset filled in below
  }
  const ifd0Size = 2 + entries0.length * 12 + 4;
  const exifIfdAt = 8 + ifd0Size;
  const exifIfdSize = exifEntries.length ? 2 + exifEntries.length * 12 + 4 : 0;
  let dataAt = exifIfdAt + exifIfdSize;
  const dataParts = [];
  const tiffSize = dataAt + exifEntries.filter((e) => e[1] === TYPE_ASCII).reduce((sum, e) => sum + e[2] + (e[2] % 2), 0);

  const tiff = new Uint8Array(tiffSize);
  const view = new DataView(tiff.buffer);
  tiff.set([0x4d, 0x4d, 0x00, 0x2a]); // "MM", 42
  view.setUint32(4, 8);

  const writeIfd = (at, entries) => {
    view.setUint16(at, entries.length);
    entries.forEach(([tag, type, count, value], i) => {
      const e = at + 2 + i * 12;
      view.setUint16(e, tag);
      view.setUint16(e + 2, type);
      view.setUint32(e + 4, count);
      if (type === TYPE_SHORT) view.setUint16(e + 8, value);
      else if (type === TYPE_LONG) view.setUint32(e + 8, tag === TAG_EXIF_IFD ? exifIfdAt : value);
      else if (type === TYPE_UNDEFINED) tiff.set(value, e + 8);
      else if (type === TYPE_ASCII) {
        view.setUint32(e + 8, dataAt);
        dataParts.push([dataAt, value]);
        dataAt += count + (count % 2);
      }
    });
    view.setUint32(at + 2 + entries.length * 12, 0); // no next IFD
  };
  writeIfd(8, entries0);
  if (exifEntries.length) writeIfd(exifIfdAt, exifEntries);
  for (const [at, text] of dataParts) {
    for (let i = 0; i < text.length; i += 1) tiff[at + i] = text.charCodeAt(i); // NUL-terminated: the array is zeroed
  }

  const length = 2 + EXIF_HEADER.length + tiff.length;
  const segment = new Uint8Array(2 + length);
  segment.set([0xff, 0xe1, length >> 8, length & 0xff]);
  segment.set(EXIF_HEADER, 4);
  segment.set(tiff, 4 + EXIF_HEADER.length);
  return segment;
}

/**
 * Copy a JPEG without any APPn/COM segment or trailing data, with a minimal EXIF block in their
 * place (captureTime: ISO 8601 as readExif returns it, or null for none). The image data itself
 * is copied byte for byte. Throws JpegUnreadable for a file it cannot parse.
 */
export function stripAllButCaptureTime(jpegBytes, captureTime) {
  const exif = minimalExifSegment(captureTime);
  const keep = [];
  let size = 2 + exif.length;
  walk(jpegBytes, (seg) => {
    if (!seg.entropy && (isApp(seg.marker) || seg.marker === COM)) return;
    keep.push([seg.start, seg.end]);
    size += seg.end - seg.start;
  });
  const out = new Uint8Array(size);
  out.set([0xff, SOI]);
  out.set(exif, 2);
  let at = 2 + exif.length;
  for (const [start, end] of keep) {
    out.set(jpegBytes.subarray(start, end), at);
    at += end - start;
  }
  return out;
}
