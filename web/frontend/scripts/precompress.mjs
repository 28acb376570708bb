// Precompresses the build (../static/dist) once, at build time: next to each text file of 1 KiB or
// more, a brotli (.br, quality 11) and a gzip (.gz, level 9) copy, each kept only when it saves at
// least a tenth. The web app (web/static_assets.py) serves the copy the browser accepts.

import { readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../../static/dist');
const TEXT = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt', '.webmanifest']);
const SMALLEST = 1024;
const WORTH = 0.9;

const CODINGS = {
  '.br': (bytes) =>
    brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }),
  '.gz': (bytes) => gzipSync(bytes, { level: 9 }),
};

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

let before = 0;
let after = 0;
for (const path of [...files(dist)]) {
  if (!TEXT.has(extname(path)) || statSync(path).size < SMALLEST) continue;
  const bytes = readFileSync(path);
  let best = bytes.length;
  for (const [suffix, compress] of Object.entries(CODINGS)) {
    const copy = compress(bytes);
    const target = path + suffix;
    if (copy.length <= bytes.length * WORTH) {
      writeFileSync(target, copy);
      best = Math.min(best, copy.length);
    } else {
      try {
        unlinkSync(target);
      } catch {
        // there was none
      }
    }
  }
  before += bytes.length;
  after += best;
}
console.log(`precompressed: ${(before / 1024).toFixed(0)} KiB of text, ${(after / 1024).toFixed(0)} KiB at best`);
