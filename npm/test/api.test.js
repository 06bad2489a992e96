'use strict';
// The JS API against a real server: results from the CLI's --json, errors by exit code with the
// same fields as Python's, and the same shale.toml / .env / variables as the command line.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const shale = require('shale');
const { psql, freshDatabase } = require('./pg');

const USERS = `-- migrate:up
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
-- migrate:down
DROP TABLE users;
`;

function project() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shale-js-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'migrations', '001_users.sql'), USERS);
  return dir;
}

test('up, status and down resolve to plain objects', async () => {
  const cwd = project();
  const databaseUrl = freshDatabase('js_up');
  let status = await shale.status({ databaseUrl, cwd });
  assert.equal(status.currentVersion, null);
  assert.deepEqual(status.migrations.map((m) => [m.version, m.state]), [['001', 'pending']]);

  const result = await shale.up({ databaseUrl, cwd, backup: path.join(cwd, 'backups') });
  assert.equal(path.dirname(result.backup), path.join(cwd, 'backups'));
  assert.ok(fs.statSync(result.backup).size > 0);
  assert.deepEqual(result.versions, ['001']);
  assert.equal(result.currentVersion, '001');
  assert.equal(result.steps[0].path, 'migrations/001_users.sql');
  assert.equal(psql(databaseUrl, 'SELECT count(*) FROM users'), '0');
  assert.deepEqual((await shale.up({ databaseUrl, cwd })).steps, []);

  status = await shale.status({ databaseUrl, cwd });
  assert.equal(status.historyExists, true);
  assert.deepEqual(status.pending, []);
  const plan = await shale.plan({ databaseUrl, cwd });
  assert.deepEqual(plan.steps, []);

  // A seed has no version: none listed (the package trial: [null], typed as strings).
  fs.mkdirSync(path.join(cwd, 'seeds'));
  fs.writeFileSync(path.join(cwd, 'seeds', 'admin.sql'), "INSERT INTO users (email) VALUES ('admin@example.com');\n");
  const seeded = await shale.up({ databaseUrl, cwd, seed: true });
  assert.deepEqual(seeded.seeds.versions, []);
  assert.equal(seeded.seeds.steps[0].version, null);
  assert.equal(seeded.seeds.steps[0].name, 'admin');

  const reverted = await shale.down({ databaseUrl, cwd, all: true });
  assert.deepEqual(reverted.versions, ['001']);
  assert.equal(reverted.steps[0].direction, 'down');
  await assert.rejects(shale.down({ databaseUrl, cwd }), TypeError);
});

test('a failed migration rejects with MigrationError and its location', async () => {
  const cwd = project();
  const databaseUrl = freshDatabase('js_fail');
  fs.writeFileSync(
    path.join(cwd, 'migrations', '002_profile.sql'),
    '-- migrate:up\nALTER TABLE users ADD COLUMN profile jsonb;\nALTER TABLE users ADD CONSTRAINT bad CHECK (nosuchcolumn > 0);\n',
  );
  const error = await shale.up({ databaseUrl, cwd }).then(
    () => assert.fail('expected a MigrationError'),
    (e) => e,
  );
  assert.ok(error instanceof shale.MigrationError && error instanceof shale.ShaleError && error instanceof Error);
  assert.equal(error.exitCode, 1);
  assert.equal(error.file, 'migrations/002_profile.sql');
  assert.equal(error.line, 3);
  assert.equal(error.column, 1);
  assert.equal(error.location, 'migrations/002_profile.sql:3:1');
  assert.equal(error.sqlstate, '42703');
  assert.equal(error.pgMessage, 'column "nosuchcolumn" does not exist');
  assert.equal(error.migration, '002 profile');
  assert.equal(error.rolledBack, true);
  assert.match(error.message, /migrations\/002_profile\.sql:3:1/);
  assert.equal(error.name, 'MigrationError');
  assert.equal(psql(databaseUrl, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'profile'"), '0');
});

test('validation, connection and usage errors by exit code', async () => {
  const cwd = project();
  const databaseUrl = freshDatabase('js_invalid');
  await shale.up({ databaseUrl, cwd });
  // Its up section changed (a change to its down section alone is no change to what ran).
  fs.writeFileSync(path.join(cwd, 'migrations', '001_users.sql'), USERS.replace('email text NOT NULL', 'email text'));
  const invalid = await shale.up({ databaseUrl, cwd }).catch((e) => e);
  assert.ok(invalid instanceof shale.ValidationError, String(invalid));
  assert.equal(invalid.exitCode, 2);
  assert.match(invalid.problems[0].message, /changed after it was applied/);
  // The message an application logs names the file and what to do, not only how many problems.
  assert.match(invalid.message, /problem\(s\) between .*001 users was changed after it was applied/);
  assert.equal(invalid.problems[0].path, 'migrations/001_users.sql');
  // A statement that does not parse: the problem is where PostgreSQL stops, before anything runs.
  fs.writeFileSync(path.join(cwd, 'migrations', '001_users.sql'), USERS);
  fs.writeFileSync(path.join(cwd, 'migrations', '002_bad.sql'), 'SELECT 1;\nALTER TABLE users ADD COLUM x int;\n');
  const syntax = await shale.up({ databaseUrl, cwd }).catch((e) => e);
  assert.ok(syntax instanceof shale.ValidationError, String(syntax));
  const { path: file, line, column } = syntax.problems[0];
  assert.deepEqual({ file, line, column }, { file: 'migrations/002_bad.sql', line: 2, column: 31 });
  fs.unlinkSync(path.join(cwd, 'migrations', '002_bad.sql'));

  const unavailable = await shale
    .status({ databaseUrl: 'postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2', cwd })
    .catch((e) => e);
  assert.ok(unavailable instanceof shale.UnavailableError, String(unavailable));
  assert.equal(unavailable.exitCode, 3);

  // The URL reaches the binary in its environment: neither its arguments (which ps shows to every
  // user of the machine) nor the error carry the password.
  const secret = await shale
    .status({ databaseUrl: 'postgresql://app:s3cret-pw@127.0.0.1:1/postgres?connect_timeout=2', cwd })
    .catch((e) => e);
  assert.ok(secret instanceof shale.UnavailableError, String(secret));
  assert.ok(!(secret.command || []).join(' ').includes('s3cret-pw'), String(secret.command));
  assert.ok(!secret.message.includes('s3cret-pw') && secret.message.includes('app:***@'), secret.message);

  // Run without --json, the message is the error, not the warnings printed before it.
  psql(databaseUrl, "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('a1')");
  fs.writeFileSync(path.join(cwd, 'migrations', '001_users.sql'), USERS.replace('email text NOT NULL', 'email text'));
  const validate = await shale.run(['--database-url', databaseUrl, 'validate'], { cwd }).catch((e) => e);
  assert.match(validate.stderr, /warning:/);
  assert.match(validate.message, /^error:.*001 users/);
  const validateJson = await shale.run(['--database-url', databaseUrl, 'validate', '--json'], { cwd }).catch((e) => e);
  assert.equal(validateJson.message, '1 problem(s): migrations/001_users.sql: 001 users modified');
  fs.writeFileSync(path.join(cwd, 'migrations', '001_users.sql'), USERS);

  const usage = await shale.run(['status', '--no-such-flag'], { cwd }).catch((e) => e);
  assert.ok(usage instanceof shale.ValidationError);
  assert.match(usage.message, /--no-such-flag/);
});

test('migrationLockWait, and lockTimeout (its former name) with a warning', async () => {
  const cwd = project();
  const databaseUrl = freshDatabase('js_lock_wait');
  assert.deepEqual((await shale.up({ databaseUrl, cwd, migrationLockWait: '5s' })).versions, ['001']);
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    assert.equal((await shale.status({ databaseUrl, cwd, lockTimeout: 5 })).currentVersion, '001');
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  assert.ok(warnings.some((w) => w.name === 'DeprecationWarning' && /use migrationLockWait/.test(w.message)), warnings);
  await assert.rejects(shale.status({ databaseUrl, cwd, lockTimeout: 5, migrationLockWait: 5 }), TypeError);
});

test('reads shale.toml and .env like the CLI', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'shale-js-'));
  fs.mkdirSync(path.join(cwd, 'db'));
  fs.writeFileSync(path.join(cwd, 'db', '0001_users.sql'), USERS);
  fs.writeFileSync(path.join(cwd, 'shale.toml'), 'dir = "db"\ndatabase_url_env = "APP_DATABASE_URL"\n');
  fs.writeFileSync(path.join(cwd, '.env'), `APP_DATABASE_URL=${freshDatabase('js_toml')}\n`);
  assert.deepEqual((await shale.up({ cwd })).versions, ['0001']);
  assert.equal((await shale.status({ cwd })).currentVersion, '0001');
  await assert.rejects(
    shale.status({ cwd, env: { APP_DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/x' } }),
    shale.UnavailableError,
  );
});

test('lint resolves with findings and never rejects for them', async () => {
  const cwd = project();
  fs.writeFileSync(path.join(cwd, 'migrations', '002_drop.sql'), 'ALTER TABLE users DROP COLUMN email;\n');
  const report = await shale.lint({ files: ['migrations/002_drop.sql'], cwd });
  assert.equal(report.ok, false);
  assert.deepEqual(report.errors.map((f) => f.rule), ['destructive']);
  assert.equal(report.errors[0].line, 1);
  const clean = await shale.lint({ files: ['migrations/001_users.sql'], cwd });
  assert.equal(clean.ok, true);
});

test('drift resolves with the differences and never rejects for them', async () => {
  const cwd = project();
  const databaseUrl = freshDatabase('js_drift');
  const devUrl = `${databaseUrl.slice(0, databaseUrl.lastIndexOf('/'))}/postgres`;
  await shale.up({ databaseUrl, cwd });
  const clean = await shale.drift({ databaseUrl, devUrl, cwd });
  assert.equal(clean.drifted, false);
  assert.deepEqual(clean.differences, []);
  psql(databaseUrl, 'ALTER TABLE users ADD COLUMN phone text');
  const drifted = await shale.drift({ databaseUrl, devUrl, cwd });
  assert.equal(drifted.drifted, true);
  assert.deepEqual(drifted.differences, [{ object: 'column public.users.phone', expected: null, actual: 'text null' }]);
  // What was not compared is said: a rule, of a kind shale does not read yet.
  assert.deepEqual(clean.unread, []);
  psql(databaseUrl, 'CREATE RULE users_keep AS ON DELETE TO users DO INSTEAD NOTHING');
  const ruled = await shale.drift({ databaseUrl, devUrl, cwd });
  assert.deepEqual(ruled.unread.map((u) => [u.kind, u.count]), [['rule', 1]]);
  // A library's own schema, left out when asked.
  psql(databaseUrl, 'CREATE SCHEMA worker; CREATE TABLE worker.jobs (id int)');
  const worker = await shale.drift({ databaseUrl, devUrl, cwd });
  assert.ok(worker.differences.some((d) => d.object === 'table worker.jobs'));
  const excluded = await shale.drift({ databaseUrl, devUrl, cwd, excludeSchemas: ['worker'] });
  assert.ok(!excluded.differences.some((d) => d.object === 'table worker.jobs'));
});

test('the shale bin runs the binary with its exit status', () => {
  const bin = path.join(path.dirname(require.resolve('shale/package.json')), 'bin', 'shale.js');
  const out = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.match(out, /^shale \d/);
  assert.throws(
    () => execFileSync(process.execPath, [bin, 'status', '--no-such-flag'], { stdio: 'ignore' }),
    (e) => e.status === 2,
  );
  assert.match(shale.binaryPath(), /@shale[\/\\]cli-/);
});

test('down generates the downs a history lacks', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'shale-js-'));
  fs.mkdirSync(path.join(cwd, 'migrations'));
  fs.writeFileSync(path.join(cwd, 'migrations', '001_users.sql'), 'CREATE TABLE users (id bigint PRIMARY KEY);\n');
  fs.writeFileSync(path.join(cwd, 'migrations', '002_email.sql'), 'ALTER TABLE users ADD COLUMN email text;\n');
  const databaseUrl = freshDatabase('js_generate');
  await shale.up({ databaseUrl, cwd });
  // (Of a table that holds no row, a generated down loses nothing, and runs.)
  psql(databaseUrl, "INSERT INTO users VALUES (1, 'a@example.com')");
  await assert.rejects(shale.down({ databaseUrl, cwd, step: 1, generate: true }), shale.ValidationError);
  const reverted = await shale.down({ databaseUrl, cwd, all: true, generate: true, allowDestructive: true });
  assert.deepEqual(reverted.versions, ['002', '001']);
  assert.equal(psql(databaseUrl, "SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), '0');
});

test('status says what was adopted and what the other tool did since', async () => {
  const cwd = project();
  const databaseUrl = freshDatabase('js_adopted');
  // A database dbmate migrated, taken over; then dbmate's migrate ran again somewhere.
  psql(
    databaseUrl,
    "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL); CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('001')",
  );
  execFileSync(shale.binaryPath(), ['--database-url', databaseUrl, 'adopt'], { cwd, stdio: 'ignore' });
  fs.writeFileSync(path.join(cwd, 'migrations', '002_posts.sql'), '-- migrate:up\nCREATE TABLE posts (id int);\n');
  psql(databaseUrl, "CREATE TABLE posts (id int); INSERT INTO schema_migrations VALUES ('002')");
  const status = await shale.status({ databaseUrl, cwd });
  assert.deepEqual(
    status.migrations.map((m) => [m.version, m.adopted, m.adoptedFrom]),
    [
      ['001', true, 'dbmate'],
      ['002', false, null],
    ],
  );
  assert.equal(status.appliedByTheOtherTool.tool, 'dbmate');
  assert.equal(status.ranByBoth, null);
});

/** `shale.up(options)`, with the warnings it emitted meanwhile. */
async function upWarning(options) {
  const warned = [];
  const onWarning = (w) => warned.push(w);
  process.on('warning', onWarning);
  try {
    const result = await shale.up(options);
    await new Promise((resolve) => setImmediate(resolve));
    return { result, warned };
  } finally {
    process.off('warning', onWarning);
  }
}

test('up warns of an empty up beside a down with SQL', async () => {
  // Its SQL written into the down file by mistake (review: only the command line said it).
  const cwd = project();
  const databaseUrl = freshDatabase('js_empty_up');
  fs.writeFileSync(path.join(cwd, 'migrations', '002_locale.up.sql'), '-- up: locale\n');
  fs.writeFileSync(path.join(cwd, 'migrations', '002_locale.down.sql'), 'ALTER TABLE users ADD COLUMN locale text;\n');
  const { result, warned } = await upWarning({ databaseUrl, cwd });
  assert.deepEqual(result.versions, ['001', '002']);
  assert.ok(warned.some((w) => w.message.includes('migration 002 locale was applied, but its up holds no statement')), String(warned));
});

test('up warns where a code tool still migrates', async () => {
  const cwd = project();
  const databaseUrl = freshDatabase('js_code_tool');
  psql(
    databaseUrl,
    "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL); CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('a1')",
  );
  execFileSync(shale.binaryPath(), ['--database-url', databaseUrl, 'baseline', '001', '--force', '--reason', 'built by Alembic'], {
    cwd,
    stdio: 'ignore',
  });
  psql(databaseUrl, "UPDATE alembic_version SET version_num = 'b2'");
  fs.writeFileSync(path.join(cwd, 'migrations', '002_tags.sql'), '-- migrate:up\nCREATE TABLE tags (id int);\n');
  const { result, warned } = await upWarning({ databaseUrl, cwd });
  assert.deepEqual(result.versions, ['002']);
  assert.ok(warned.some((w) => w.name === 'ShaleWarning' && w.message.includes("alembic's history")), String(warned));
  assert.ok(warned.some((w) => w.message.includes('--direction adopt')), String(warned));
});

// The tool whose history shale took over ran again a migration shale had applied (its migrate
// left in the start-up beside up()): said by an up with nothing to apply (drizzle trial: silent).
test('up warns where the adopted tool ran a migration again', async () => {
  const cwd = project();
  const databaseUrl = freshDatabase('js_ran_by_both');
  psql(
    databaseUrl,
    "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL); CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('001')",
  );
  execFileSync(shale.binaryPath(), ['--database-url', databaseUrl, 'adopt'], { cwd, stdio: 'ignore' });
  fs.writeFileSync(path.join(cwd, 'migrations', '002_tags.sql'), '-- migrate:up\nCREATE TABLE tags (id int);\n');
  await shale.up({ databaseUrl, cwd });
  psql(databaseUrl, "INSERT INTO schema_migrations VALUES ('002')");
  const { result, warned } = await upWarning({ databaseUrl, cwd });
  assert.deepEqual(result.versions, []);
  assert.deepEqual(result.ranByBoth.migrations, ['002 tags']);
  assert.ok(warned.some((w) => w.name === 'ShaleWarning' && w.message.includes('dbmate applied 002 tags too')), String(warned));
});

// Another SQL tool's history appearing on a database shale built: it ran the same files a second
// time, and the way out is the command line's (graphile trial: the package advised
// `--direction adopt`, which would have made what the second run left the schema).
test('up says what the command line says where another tool ran the migrations again', async () => {
  const cwd = project();
  const databaseUrl = freshDatabase('js_ran_again');
  execFileSync(shale.binaryPath(), ['--database-url', databaseUrl, 'up'], { cwd, stdio: 'ignore' });
  psql(databaseUrl, "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('001')");
  fs.writeFileSync(path.join(cwd, 'migrations', '002_tags.sql'), 'CREATE TABLE tags (id int);\n');
  const { warned } = await upWarning({ databaseUrl, cwd });
  assert.ok(
    warned.some((w) => w.message.includes('a second time') && w.message.includes('--direction restore')),
    String(warned),
  );
});
