#!/usr/bin/env node
// A fake docker-credential-* helper for test/remote/credentials.test.ts, speaking the native
// helper protocol (docker-credential-helpers): `get`, `store`, `erase` as the one argument, the
// server URL (get, erase) or {ServerURL, Username, Secret} JSON (store) on stdin; "credentials
// not found in native keychain" on stdout with exit 1 when it holds nothing.
//
// The tests copy it under several names (docker-credential-test, docker-credential-other); the
// name after `docker-credential-` selects its store, so two copies are two keychains.
//   FAKE_CRED_DIR   directory holding <name>.json (the store: { serverURL: {Username, Secret} })
//                   and calls.log (one JSON line per call: helper, action, serverURL; no secrets)
//   FAKE_CRED_MODE  '' normal; 'hang' never answers (and ignores SIGTERM); 'fail' exits 1 with
//                   an error on stderr that echoes its input; 'garbage' answers get with non-JSON
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const name = basename(process.argv[1]).replace(/^docker-credential-/, '');
const action = process.argv[2];
const dir = process.env.FAKE_CRED_DIR;
const mode = process.env.FAKE_CRED_MODE ?? '';
const storePath = join(dir, `${name}.json`);

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = Buffer.concat(chunks).toString('utf8');
const serverURL = action === 'store' ? JSON.parse(input).ServerURL : input.trim();
appendFileSync(join(dir, 'calls.log'), `${JSON.stringify({ helper: name, action, serverURL })}\n`);

const load = () => (existsSync(storePath) ? JSON.parse(readFileSync(storePath, 'utf8')) : {});
const notFound = () => {
  process.stdout.write('credentials not found in native keychain\n');
  process.exit(1);
};

if (mode === 'hang') {
  process.on('SIGTERM', () => undefined);
  setInterval(() => undefined, 1000);
} else if (mode === 'fail') {
  process.stderr.write(`fake helper failed on ${input.replace(/\s+/g, ' ')}\nsecond line\n`);
  process.exit(1);
} else if (action === 'get') {
  const entry = load()[serverURL];
  if (entry === undefined) notFound();
  if (mode === 'garbage') process.stdout.write(`not json ${entry.Secret}\n`);
  else process.stdout.write(JSON.stringify({ ServerURL: serverURL, ...entry }));
} else if (action === 'store') {
  const { Username, Secret } = JSON.parse(input);
  writeFileSync(storePath, JSON.stringify({ ...load(), [serverURL]: { Username, Secret } }));
} else if (action === 'erase') {
  const store = load();
  if (store[serverURL] === undefined) notFound();
  delete store[serverURL];
  writeFileSync(storePath, JSON.stringify(store));
} else {
  process.stderr.write(`unknown action ${action}\n`);
  process.exit(2);
}
