'use strict';
// A typed API over the shale binary's --json output. Every function runs the binary in the
// working directory (or `cwd`), so it reads the same shale.toml, .env and environment variables
// (DATABASE_URL, the variable shale.toml names, PG*) as the command line, takes the same
// migration lock and writes the same history. Results are plain objects with camelCase keys;
// failures reject with the ShaleError subclass of the exit code:
//   1 MigrationError, 2 ValidationError, 3 UnavailableError, 130 Interrupted.

const { spawn } = require('child_process');
const { binaryPath } = require('./platform');

// ---------------------------------------------------------------------------------------------
// Errors

class ShaleError extends Error {
  constructor(message, { exitCode, json = {}, stderr = '', command = [] } = {}) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.json = json;
    this.stderr = stderr;
    this.command = command;
  }
}

/** A migration failed (exit 1); its transaction was rolled back. */
class MigrationError extends ShaleError {
  constructor(message, options = {}) {
    super(message, options);
    const json = this.json;
    const failure = json.failure || {};
    const location = failure.location || {};
    this.migration = json.migration ?? null;
    this.file = location.path ?? json.path ?? null;
    this.line = location.line ?? null;
    this.column = location.column ?? null;
    this.lineText = location.line_text ?? null;
    this.sqlstate = failure.sqlstate ?? null;
    this.pgMessage = failure.message ?? null;
    this.detail = failure.detail ?? null;
    this.hint = failure.hint ?? null;
    this.context = failure.context ?? null;
    this.statement = failure.statement ?? json.statement ?? null;
    this.remedy = failure.remedy ?? null;
    this.rolledBack = failure.rolled_back ?? null;
  }

  /** `file:line:column`, when shale knows where the failure is. */
  get location() {
    if (!this.file) return null;
    return [this.file, this.line, this.column].filter((p) => p !== null && p !== undefined).join(':');
  }
}

/** Usage, configuration or validation error (exit 2): nothing was applied. */
class ValidationError extends ShaleError {
  constructor(message, options = {}) {
    super(message, options);
    this.problems = (this.json.problems || []).map((p) => ({
      message: p.message ?? '',
      path: p.path ?? null,
      line: p.line ?? null,
      column: p.column ?? null,
      hint: p.hint ?? null,
    }));
  }
}

/** Could not connect, or could not get the migration lock (exit 3): worth retrying. */
class UnavailableError extends ShaleError {}

/** Stopped by Ctrl-C or SIGTERM (exit 130); `applied` were committed before the stop. */
class Interrupted extends ShaleError {
  get applied() {
    return this.json.applied || [];
  }
}

const BY_CODE = { 1: MigrationError, 2: ValidationError, 3: UnavailableError, 130: Interrupted };

// What the CLI said of the error: from its `error:` line on, without the warnings and notes
// before it (the Django trial: a warning stood where the error should be); all of it where no
// line says `error:`.
function errorLines(stderr) {
  const lines = stderr.trim().split('\n');
  const start = Math.max(0, lines.findIndex((line) => line.startsWith('error:')));
  return lines.slice(start).join('\n').trim();
}

// A check's document (`validate --json`) says what failed in its `problems`, with no `message`:
// each named (the Django re-check: the message was "shale exited with 1").
function problemsLine(json) {
  const problems = ((json && json.problems) || []).filter((p) => p && typeof p === 'object');
  if (!problems.length) return '';
  const named = problems.map((p) => {
    if (p.message) return p.message;
    const words = ['version', 'name', 'state'].filter((k) => p[k]).map((k) => p[k]).join(' ');
    return p.path ? `${p.path}: ${words}` : words;
  });
  return `${problems.length} problem(s): ${named.join('; ')}`;
}

// A count of problems ("1 problem(s) in the migration files") with the first of them, where the
// message does not name it: a log line is often all an operator sees (Django round 3).
function withFirstProblem(message, json) {
  const problems = ((json && json.problems) || []).filter((p) => p && typeof p === 'object' && p.message);
  if (!message || !problems.length || message.includes(problems[0].message)) return message;
  const first = problems[0];
  let where = first.path || '';
  if (where && first.line) where += `:${first.line}${first.column ? `:${first.column}` : ''}`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `${message}: ${where && !first.message.includes(where) ? `${where}: ` : ''}${first.message}${more}`;
}

function errorFor(exitCode, signal, json, stderr, command) {
  let message =
    withFirstProblem(json && json.message, json) || problemsLine(json) || errorLines(stderr) || `shale exited with ${exitCode}`;
  if (signal) message = `shale was killed by ${signal}${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
  const Class = (!signal && BY_CODE[exitCode]) || ShaleError;
  return new Class(message, { exitCode: signal ? null : exitCode, json: json || {}, stderr, command });
}

// ---------------------------------------------------------------------------------------------
// Running the binary

function duration(value) {
  if (typeof value === 'number') return `${Math.round(value * 1000)}ms`;
  return String(value);
}

function globalArgs(o) {
  const args = [];
  if (o.dev) args.push('--dev');
  if (o.dir != null) args.push('--dir', String(o.dir));
  if (o.config != null) args.push('--config', String(o.config));
  if (o.wait != null) args.push('--wait', duration(o.wait));
  let lockWait = o.migrationLockWait;
  if (o.lockTimeout != null) {
    // The former name of migrationLockWait: lock_timeout is PostgreSQL's lock_timeout everywhere
    // else (shale.toml, `-- shale:lock-timeout`).
    if (lockWait != null) throw new TypeError('give migrationLockWait, not lockTimeout (its former name) as well');
    process.emitWarning(
      "lockTimeout is deprecated: use migrationLockWait; PostgreSQL's lock_timeout is set with lock_timeout in shale.toml",
      { type: 'DeprecationWarning', code: 'SHALE_LOCK_TIMEOUT' },
    );
    lockWait = o.lockTimeout;
  }
  if (lockWait != null) args.push('--migration-lock-wait', duration(lockWait));
  return args;
}

/**
 * Run `shale ARGS...` (any command). Resolves to {code, signal, stdout, stderr}; with
 * `check: true` (the default) a non-zero exit rejects with the ShaleError of its exit code.
 */
function run(args, { cwd, env, check = true } = {}) {
  let binary;
  try {
    binary = binaryPath();
  } catch (e) {
    return Promise.reject(e);
  }
  const command = [binary, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd,
      env: env ? { ...process.env, ...env } : process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (check && code !== 0) {
        const json = parse(stdout);
        reject(errorFor(code, signal, json && json.ok === false ? json : {}, stderr, command));
      } else {
        resolve({ code, signal, stdout, stderr });
      }
    });
  });
}

function parse(stdout) {
  const text = stdout.trim();
  if (!text) return null;
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch (_) {
    return null;
  }
}

async function jsonCommand(commandArgs, options, okCodes = [0]) {
  const args = ['--json', ...globalArgs(options), ...commandArgs];
  // The URL goes in the environment, not on the command line, where any user of the machine could
  // read its password (ps); the CLI takes SHALE_DATABASE_URL as it takes --database-url.
  const env = options.databaseUrl != null ? { ...options.env, SHALE_DATABASE_URL: options.databaseUrl } : options.env;
  const result = await run(args, { cwd: options.cwd, env, check: false });
  const json = parse(result.stdout);
  if (!okCodes.includes(result.code) || json === null || json.ok === false) {
    if (result.code === 0) {
      throw new ShaleError(`shale printed no JSON document: ${result.stdout.slice(0, 200)}`, {
        exitCode: 0,
        stderr: result.stderr,
      });
    }
    let binary = args[0];
    try {
      binary = binaryPath();
    } catch (_) {
      // reported by run() already
    }
    throw errorFor(result.code, result.signal, json && json.ok === false ? json : {}, result.stderr, [binary, ...args]);
  }
  return { code: result.code, json };
}

// ---------------------------------------------------------------------------------------------
// Results

function step(s) {
  return {
    version: s.version,
    name: s.name,
    kind: s.kind ?? 'versioned',
    direction: s.direction,
    path: s.path ?? null,
    transactional: s.transactional ?? true,
    durationMs: s.duration_ms ?? null,
  };
}

// What the tool whose history shale took over did since: {tool, table, migrations} or null.
function since(s) {
  return s
    ? {
        tool: s.tool,
        table: s.table,
        migrations: s.migrations || [],
        ...(s.marked_by_baseline ? { markedByBaseline: s.marked_by_baseline } : {}),
      }
    : null;
}

function migrateResult(json) {
  const steps = (json.steps || []).map(step);
  return {
    steps,
    // A repeatable migration and a seed file have no version (the package trial: [null]).
    versions: steps.filter((s) => s.version != null).map((s) => s.version),
    currentVersion: json.current_version ?? null,
    durationMs: json.duration_ms ?? null,
    // An up that applied something: a tool whose migrations are code still migrating here.
    changedSinceBaseline: (json.changed_since_baseline || []).map((c) => ({
      tool: c.tool,
      table: c.table,
      baselineAt: c.baseline_at ?? null,
      warning: c.warning ?? null,
    })),
    // Where shale took another tool's history over, what it did since (an up with nothing to
    // apply says both; drizzle re-check: only in the JSON).
    ranByBoth: since(json.ran_by_both),
    revertedByTheOtherTool: since(json.reverted_by_the_other_tool),
    seeds: json.seeds ? migrateResult(json.seeds) : null,
    // up({ backup }): the dump written first, where something was applied.
    backup: json.backup ?? null,
    json,
  };
}

// ---------------------------------------------------------------------------------------------
// Commands (options: see index.d.ts)

/** Apply the pending migrations (`shale up`). */
async function up(options = {}) {
  const args = ['up'];
  if (options.to != null) args.push('--to', String(options.to));
  if (options.step != null) args.push('--step', String(options.step));
  if (options.singleTransaction) args.push('--single-transaction');
  if (options.allowOutOfOrder) args.push('--allow-out-of-order');
  if (options.forceUnsafe) args.push('--force-unsafe');
  if (options.seed) args.push('--seed');
  if (options.backup != null) args.push('--backup', String(options.backup));
  const { json } = await jsonCommand(args, options);
  const result = migrateResult(json);
  // Said where an application's log shows it, as the command line says it (Django trial, in
  // Python: only in the result, which a start-up hook throws away).
  // The command line's own warning, carried in the JSON: its way out differs by case (graphile
  // trial: these words advised `--direction adopt` where the tool had run every migration again).
  for (const c of result.changedSinceBaseline || []) {
    // (A binary older than the package sends no text: review.)
    const text = c.warning ?? `${c.tool}'s history (${c.table}) changed where shale did not: \`shale status\` says what to do`;
    process.emitWarning(text, 'ShaleWarning');
  }
  // The tool whose history shale took over reverted migrations shale counts as applied (Sqitch
  // trial: "up to date", unsaid).
  const reverted = json.reverted_by_the_other_tool;
  if (reverted) {
    process.emitWarning(
      `${reverted.tool} reverted ${reverted.migrations.join(', ')} since shale took its history over (${reverted.table} no longer has it), which shale counts as applied: its down still runs somewhere; stop it, check the database with \`shale drift\`; \`shale status\` says how to record what is true`,
      'ShaleWarning',
    );
  }
  // Migrations shale applied that the tool it took over from applied too since (drizzle trial: a
  // start-up's `migrate()` beside `up()`, unsaid).
  const both = json.ran_by_both;
  if (both) {
    process.emitWarning(
      `${both.tool} applied ${both.migrations.join(', ')} too, after shale had (${both.table} records it): its migrate still runs somewhere; stop it, and check what ran twice (\`shale repair VERSION --applied --reason ...\` then records that it was checked, and this warning ends)`,
      'ShaleWarning',
    );
  }
  // An up left empty beside a down holding SQL (review: said by the command line alone).
  for (const e of json.empty_ups || []) {
    process.emitWarning(
      `${e.path}: migration ${e.label} was applied, but its up holds no statement while its down does: if its SQL went into the down file by mistake, move it to the up file, then \`shale repair ${e.version} --rolled-back --reason ...\` and \`shale up${e.later_applied ? ' --allow-out-of-order' : ''}\` run it`,
      'ShaleWarning',
    );
  }
  // Seeds in code, which shale does not run (Knex's `seeds/01_users.js`).
  for (const i of (result.seeds && result.seeds.json.ignored) || []) {
    process.emitWarning(`${i.path}: ignored: ${i.reason}`, 'ShaleWarning');
  }
  return result;
}

/** What `up` would run, with each statement's locks (`shale up --dry-run`); runs nothing. */
async function plan(options = {}) {
  const args = ['up', '--dry-run'];
  if (options.to != null) args.push('--to', String(options.to));
  if (options.step != null) args.push('--step', String(options.step));
  if (options.allowOutOfOrder) args.push('--allow-out-of-order');
  const { json } = await jsonCommand(args, options, [0, 2]);
  return {
    refused: Boolean(json.refused),
    refusal: json.refusal ?? null,
    steps: (json.steps || []).map((s) => ({
      version: s.version,
      name: s.name,
      direction: s.direction,
      path: s.path ?? null,
      transaction: s.transaction,
      noTransactionReason: s.no_transaction_reason ?? null,
      statements: Array.isArray(s.statements) ? s.statements.length : s.statements ?? null,
      locks: (s.locks || []).map((l) => ({
        line: l.line ?? null,
        table: l.table,
        lock: l.lock,
        rewrites: Boolean(l.rewrites),
        scans: Boolean(l.scans),
      })),
    })),
    json,
  };
}

/**
 * Revert applied migrations, newest first (`shale down`): one of step, to or all. With generate,
 * migrations without a down are reverted with one computed from the schemas before and after each;
 * one that drops data runs only with allowDestructive (else a ValidationError, nothing run).
 */
async function down(options = {}) {
  const chosen = [options.step != null, options.to != null, Boolean(options.all)].filter(Boolean);
  if (chosen.length !== 1) throw new TypeError('down() needs exactly one of {step: N}, {to: VERSION} or {all: true}');
  const args = ['down'];
  if (options.step != null) args.push('--step', String(options.step));
  if (options.to != null) args.push('--to', String(options.to));
  if (options.all) args.push('--all');
  if (options.generate) args.push('--generate');
  if (options.allowDestructive) args.push('--allow-destructive');
  const { json } = await jsonCommand(args, options);
  return migrateResult(json);
}

/** Every migration with its state (`shale status`). */
async function status(options = {}) {
  const { json } = await jsonCommand(['status'], options);
  const migrations = (json.migrations || []).map((m) => ({
    version: m.version ?? null,
    name: m.name,
    kind: m.kind,
    state: m.state,
    path: m.path ?? null,
    appliedAt: m.applied_at ?? null,
    durationMs: m.duration_ms ?? null,
    error: m.error ?? null,
    // Recorded by `shale adopt` from another tool's history (applied by that tool, not shale).
    adopted: Boolean(m.adopted),
    adoptedFrom: m.adopted_from ?? null,
  }));
  return {
    currentVersion: json.current_version ?? null,
    historyExists: Boolean(json.history_exists),
    migrations,
    pending: migrations.filter((m) => m.state === 'pending'),
    // Another tool (Alembic, Django, Sequelize, ...) still migrating this database after the switch.
    changedSinceBaseline: (json.changed_since_baseline || []).map((c) => ({
      tool: c.tool,
      table: c.table,
      baselineAt: c.baseline_at ?? null,
      warning: c.warning ?? null,
    })),
    // That tool applied these too, after shale had: its migrate still runs somewhere.
    ranByBoth: since(json.ran_by_both),
    // That tool applied these, which shale has not: `up` refuses them until they are recorded.
    appliedByTheOtherTool: since(json.applied_by_the_other_tool),
    json,
  };
}

/** What each migration locks, rewrites or destroys (`shale lint --format json`). Never rejects for findings. */
async function lint(options = {}) {
  const args = ['lint', '--format', 'json'];
  if (options.all) args.push('--all');
  if (options.since != null) args.push('--since', options.since);
  if (options.pgVersion != null) args.push('--pg-version', String(options.pgVersion));
  for (const f of options.files || []) args.push(String(f));
  const connects = { wait: undefined, migrationLockWait: undefined, lockTimeout: undefined };
  const { code, json } = await jsonCommand(args, { ...options, ...connects }, [0, 1]);
  const findings = (json.findings || []).map((f) => ({
    rule: f.rule,
    severity: f.severity,
    path: f.path ?? null,
    line: f.line ?? null,
    column: f.column ?? null,
    message: f.message,
    why: f.why,
    fix: f.fix,
    allowed: Boolean(f.allowed),
    statement: f.statement,
  }));
  return {
    ok: code === 0,
    findings,
    errors: findings.filter((f) => f.severity === 'error' && !f.allowed),
    syntaxErrors: (json.syntax_errors || []).map((e) => ({
      path: e.path ?? null,
      line: e.line ?? null,
      column: e.column ?? null,
      message: e.message,
    })),
    json,
  };
}

/**
 * The live schema against what the migrations applied there build (`shale drift --json`), or
 * against `against` (a schema file, `exec:COMMAND`). A drift never rejects: check `drifted`.
 */
async function drift(options = {}) {
  const args = ['drift'];
  if (options.against != null) args.push('--against', options.against);
  // A single name is taken as one, not as its letters (review).
  const list = (value) => (typeof value === 'string' ? [value] : value || []);
  for (const what of list(options.ignore)) args.push('--ignore', what);
  for (const schema of list(options.excludeSchemas)) args.push('--exclude-schema', schema);
  // In the environment, as the database URL: its password stays out of the process list and of
  // the error's command (Django trial, in Python's API).
  const env = options.devUrl != null ? { ...options.env, SHALE_DEV_URL: options.devUrl } : options.env;
  const connects = { wait: undefined, migrationLockWait: undefined, lockTimeout: undefined };
  const { json } = await jsonCommand(args, { ...options, ...connects, env }, [0, 1]);
  return {
    drifted: Boolean(json.drifted),
    differences: (json.differences || []).map((d) => ({
      object: d.object,
      expected: d.expected ?? null,
      actual: d.actual ?? null,
    })),
    // The live database's objects of kinds shale does not read yet, which were not compared.
    unread: (json.unread && json.unread.database) || [],
    json,
  };
}

module.exports = {
  up,
  plan,
  down,
  status,
  lint,
  drift,
  run,
  binaryPath,
  ShaleError,
  MigrationError,
  ValidationError,
  UnavailableError,
  Interrupted,
};
