// Runs the patient app's pure modules in Node for the Python interop tests.
//   node js_tool.mjs encrypt <plain> <kek.json {kid, jwk}> <out body> <out encryptiondata>
//   node js_tool.mjs decrypt <body> <encryptiondata file> <private jwk.json> <out plain>
//   node js_tool.mjs strip <in.jpg> <out.jpg>       (keeps only the capture time it reads)
//   node js_tool.mjs readexif <in.jpg>              (prints {orientation, captureTime} as JSON)
import { readFileSync, writeFileSync } from 'node:fs';

import { decryptBlobV2, encryptBlobV2 } from '../../../patient/js/lib/cse.js';
import { readExif, stripAllButCaptureTime } from '../../../patient/js/lib/jpeg-meta.js';

const [command, ...args] = process.argv.slice(2);
const read = (path) => new Uint8Array(readFileSync(path));

async function main() {
  if (command === 'encrypt') {
    const [plain, kekPath, bodyOut, metaOut] = args;
    const { body, metadata } = await encryptBlobV2(read(plain), JSON.parse(readFileSync(kekPath, 'utf8')));
    writeFileSync(bodyOut, body);
    writeFileSync(metaOut, metadata.encryptiondata);
  } else if (command === 'decrypt') {
    const [bodyPath, metaPath, jwkPath, out] = args;
    const jwk = JSON.parse(readFileSync(jwkPath, 'utf8'));
    const key = await crypto.subtle.importKey('jwk', { ...jwk, alg: 'RSA-OAEP-256', key_ops: undefined }, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
    const unwrap = async (wrapped, kid, alg) => {
      if (kid !== jwk.kid || alg !== 'RSA-OAEP-256') throw new Error(`unexpected key ${kid} ${alg}`);
      return new Uint8Array(await crypto.subtle.decrypt({ name: 'RSA-OAEP' }, key, wrapped));
    };
    writeFileSync(out, await decryptBlobV2(read(bodyPath), readFileSync(metaPath, 'utf8'), unwrap));
  } else if (command === 'strip') {
    const [input, output] = args;
    const bytes = read(input);
    writeFileSync(output, stripAllButCaptureTime(bytes, readExif(bytes).captureTime));
  } else if (command === 'readexif') {
    process.stdout.write(JSON.stringify(readExif(read(args[0]))));
  } else {
    throw new Error(`unknown command ${command}`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.name}: ${error.code || ''} ${error.message}\n`);
  process.exit(1);
});
