'use strict';
// The BetterAuth example against a real server: two instances started at once both serve and
// each migration ran once; a broken migration stops start-up with its file:line:column.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { psql, freshDatabase } = require('../../../../npm/test/pg');

const APP = path.resolve(__dirname, '..');
const EXAMPLE = path.resolve(APP, '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function startApp(port, databaseUrl, project = EXAMPLE) {
  const child = spawn(process.execPath, [path.join(APP, 'server.js')], {
    env: { ...process.env, NEON_DB_URL: databaseUrl, PORT: String(port), SHALE_PROJECT: project },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return child;
}

async function health(child, port) {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}:\n${child.output}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.ok) return response.json();
    } catch (_) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the app never became healthy:\n${child.output}`);
}

test('two instances at once both serve, and each migration ran once', async () => {
  const databaseUrl = freshDatabase('betterauth_twice');
  const ports = [await freePort(), await freePort()];
  const apps = ports.map((port) => startApp(port, databaseUrl));
  try {
    const bodies = await Promise.all(apps.map((app, i) => health(app, ports[i])));
    assert.deepEqual(bodies.map((b) => b.status), ['healthy', 'healthy']);
    assert.deepEqual(bodies.map((b) => b.version), ['006', '006']);
    const applied = bodies.flatMap((b) => b.appliedAtStartup).sort();
    assert.deepEqual(applied, ['001', '002', '003', '004', '005', '006'], JSON.stringify(bodies));
  } finally {
    for (const app of apps) app.kill('SIGTERM');
    await Promise.all(apps.map((a) => a.exited));
  }
  assert.equal(psql(databaseUrl, "SELECT count(*) FROM shale_migrations WHERE kind = 'versioned'"), '6');
  assert.equal(psql(databaseUrl, 'SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal'), '4');
});

test('a broken migration stops start-up with its file:line:column', async () => {
  const databaseUrl = freshDatabase('betterauth_broken');
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'betterauth-'));
  fs.cpSync(path.join(EXAMPLE, 'migrations'), path.join(project, 'migrations'), { recursive: true });
  fs.copyFileSync(path.join(EXAMPLE, 'shale.toml'), path.join(project, 'shale.toml'));
  fs.writeFileSync(
    path.join(project, 'migrations', '007_add_locale.sql'),
    'ALTER TABLE users ADD COLUMN locale text;\nUPDATE users SET locale = preferred_locale;\n',
  );
  const app = startApp(await freePort(), databaseUrl, project);
  const code = await app.exited;
  assert.equal(code, 1, app.output);
  assert.match(app.output, /refusing to start: migration failed at migrations\/007_add_locale\.sql:2:\d+: column "preferred_locale" does not exist \(SQLSTATE 42703\)/);
  // 001..006 were applied before it; nothing of 007 was kept.
  assert.equal(psql(databaseUrl, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'locale'"), '0');
  assert.equal(psql(databaseUrl, "SELECT count(*) FROM shale_migrations WHERE kind = 'versioned' AND status = 'succeeded'"), '6');
});
