// The patient app's own pure helpers (not the crypto modules): NHS number check, body-site groups,
// and "who has looked" in plain words.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { groupAudit } from '../js/audit-words.js';
import { groupSites, siteLabel } from '../js/bodysites.js';
import { formatNhsNumber, validNhsNumber } from '../js/format.js';

describe('NHS number (Modulus 11)', () => {
  test('valid numbers pass, with or without spaces', () => {
    assert.equal(validNhsNumber('9434765919'), true);
    assert.equal(validNhsNumber('943 476 5919'), true);
    assert.equal(validNhsNumber('943 476 5870'), true);
  });
  test('a wrong check digit, a check value of 10, or the wrong length fail', () => {
    assert.equal(validNhsNumber('9434765918'), false);
    assert.equal(validNhsNumber('9434765871'), false);
    assert.equal(validNhsNumber('943476591'), false);
    assert.equal(validNhsNumber('94347659190'), false);
    assert.equal(validNhsNumber('abcdefghij'), false);
  });
  test('shown 3-3-4', () => assert.equal(formatNhsNumber('9434765919'), '943 476 5919'));
});

describe('body sites', () => {
  const items = ['scalp', 'left-back-of-hand', 'lower-back', 'left-upper-arm', 'right-lower-leg', 'toenail', 'skin-other'].map((key) => ({ key }));
  test('grouped by region by the last word of the key', () => {
    const groups = Object.fromEntries(groupSites(items).map(([region, list]) => [region, list.map((s) => s.key)]));
    assert.deepEqual(groups, {
      'Head and neck': ['scalp'],
      'Chest, tummy and back': ['lower-back'],
      'Arms and hands': ['left-back-of-hand', 'left-upper-arm'],
      'Legs and feet': ['right-lower-leg', 'toenail'],
      'Somewhere else': ['skin-other'],
    });
  });
  test('labels read as words', () => assert.equal(siteLabel('left-back-of-hand'), 'Left back of hand'));
});

describe('who has looked', () => {
  const clinician = { kind: 'clinician', name: 'Dr Demo Clinician' };
  const clinic = { id: 'cln-1', name: 'Newcastle Dermatology' };
  const entry = (id, at, action, target, actor = clinician) => ({ id, at, action, actor, clinic, target, outcome: 'success', summary: `summary ${id}` });
  const folderOfImage = new Map([['img-1', 'fld-1'], ['img-2', 'fld-1'], ['img-3', 'fld-2']]);
  const folderName = new Map([['fld-1', 'Mole on left forearm'], ['fld-2', 'Rash']]);

  test('photos are counted once per clinician and folder per day, in plain words', () => {
    const days = groupAudit(
      [
        entry('a', '2026-06-01T09:00:00Z', 'viewed-image-content', { type: 'image', id: 'img-1' }),
        entry('b', '2026-06-01T09:01:00Z', 'viewed-image-content', { type: 'image', id: 'img-2' }),
        entry('c', '2026-06-01T09:02:00Z', 'viewed-image', { type: 'image', id: 'img-1' }),
        entry('d', '2026-06-01T09:03:00Z', 'viewed-image-content', { type: 'image', id: 'img-3' }),
        entry('e', '2026-06-01T09:04:00Z', 'export-downloaded', { type: 'export', id: 'exp-1' }),
        entry('f', '2026-05-30T10:00:00Z', 'share-granted', { type: 'share', id: 'shr-1' }, { kind: 'patient', name: 'You' }),
      ],
      folderOfImage,
      folderName,
    );
    assert.equal(days.length, 2);
    assert.equal(days[0].day, 'Monday 1 June 2026');
    // most recent first within the day
    assert.deepEqual(days[0].lines, [
      'Dr Demo Clinician, Newcastle Dermatology, downloaded a copy of your photos for your hospital record',
      'Dr Demo Clinician, Newcastle Dermatology, looked at 1 photo in Rash',
      'Dr Demo Clinician, Newcastle Dermatology, looked at 2 photos in Mole on left forearm',
    ]);
    assert.deepEqual(days[1].lines, ['summary f']);
  });

  test('a day is a UK day, and a deleted folder is named as such', () => {
    const days = groupAudit([entry('a', '2026-06-01T23:30:00Z', 'viewed-image-content', { type: 'image', id: 'img-9' })], new Map([['img-9', 'fld-9']]), new Map());
    assert.equal(days[0].day, 'Tuesday 2 June 2026');
    assert.deepEqual(days[0].lines, ['Dr Demo Clinician, Newcastle Dermatology, looked at 1 photo in a folder you deleted']);
  });
});
