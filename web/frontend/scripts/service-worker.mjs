// Writes the phone pages' service worker into the build (../static/dist/sw.js, served at /m/sw.js):
// sw/service-worker.js preceded by this build's VERSION and SHELL. The shell is the two phone
// pages and every asset they load: what their HTML names, then every asset named by those, to the
// end (MapLibre's worker is named only in a script). VERSION is a hash of the shell's names, the
// pages and the worker's text, so each build that changes any of them replaces the phones' cache.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, '..');
const dist = resolve(frontend, '../static/dist');
const ASSETS = '/static/assets/';
/** Served address → built file. */
const PAGES = { '/m/worker': 'm/worker/index.html', '/m/officer': 'm/officer/index.html' };

const assetNames = readdirSync(resolve(dist, 'assets')).filter((name) => !/\.(br|gz)$/.test(name));
const read = (file) => readFileSync(resolve(dist, file), 'utf8');

/** The assets a text names, by file name. */
const named = (text) => assetNames.filter((name) => text.includes(name));

const shell = new Set();
const pending = Object.values(PAGES).map(read);
while (pending.length) {
  for (const name of named(pending.pop())) {
    if (shell.has(name)) continue;
    shell.add(name);
    if (/\.(m?js|css)$/.test(name)) pending.push(read(`assets/${name}`));
  }
}

const template = readFileSync(resolve(frontend, 'sw/service-worker.js'), 'utf8');
const urls = [...Object.keys(PAGES), ...[...shell].sort().map((name) => ASSETS + name)];
const hash = createHash('sha256');
for (const url of urls) hash.update(url + '\n');
for (const file of Object.values(PAGES)) hash.update(read(file));
hash.update(template);
const version = hash.digest('hex').slice(0, 16);

const head = `const VERSION = ${JSON.stringify(version)};\nconst SHELL = ${JSON.stringify(urls, null, 1)};\n\n`;
writeFileSync(resolve(dist, 'sw.js'), head + template);
console.log(`service worker ${version}: ${urls.length} files in the shell`);
