'use strict';
// The PostgreSQL server the Node tests share: `shale dev start` in a temporary directory (a real
// server from the local binaries, on a Unix socket; run as `postgres` when root), stopped when
// the process exits. freshDatabase() makes an empty database and returns its URL.

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const shale = require('shale');

let server = null;
let count = 0;

function psqlBin() {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'psql'))) return path.join(dir, 'psql');
  }
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort().reverse() : [];
  for (const v of versions) {
    const candidate = `/usr/lib/postgresql/${v}/bin/psql`;
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('psql not found: install the PostgreSQL client (apt-get install postgresql)');
}

/** Run SQL on the database `url` names; the unaligned, tuples-only output. */
function psql(url, sql) {
  return execFileSync(psqlBin(), [url, '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

function start() {
  if (server) return server;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shale-node-'));
  fs.chmodSync(dir, 0o755);
  const binary = shale.binaryPath();
  const out = execFileSync(binary, ['dev', 'start'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const url = out.trim().split('\n').pop();
  server = { dir, url };
  process.on('exit', () => {
    try {
      execFileSync(binary, ['dev', 'stop'], { cwd: dir, stdio: 'ignore' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  return server;
}

function freshDatabase(hint) {
  const { url } = start();
  count += 1;
  const name = `${hint.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40)}_${process.pid}_${count}`;
  psql(url, `CREATE DATABASE "${name}"`);
  return `${url.slice(0, url.lastIndexOf('/'))}/${name}`;
}

module.exports = { psql, freshDatabase };
