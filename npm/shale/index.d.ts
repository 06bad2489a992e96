// Types of the shale package: a typed API over the shale binary's --json output.

/** Options every command takes; left out, the CLI decides from shale.toml, .env and the environment. */
export interface CommonOptions {
  /** --database-url (else DATABASE_URL, or the variable shale.toml names, else PG*). */
  databaseUrl?: string;
  /** --dir (else `dir` in shale.toml, else "migrations"). */
  dir?: string;
  /** --config (else shale.toml when present). */
  config?: string;
  /** --dev: the project's development PostgreSQL under .shale/dev. */
  dev?: boolean;
  /** --wait: keep trying to connect this long while the server starts ("30s", or seconds). */
  wait?: string | number;
  /** --migration-lock-wait: how long to wait for another runner's migration lock ("10m", or seconds). */
  migrationLockWait?: string | number;
  /** @deprecated The former name of `migrationLockWait` (a DeprecationWarning). */
  lockTimeout?: string | number;
  /** The directory to run in (where shale.toml and .env are read) [default: process.cwd()]. */
  cwd?: string;
  /** Variables added to the environment of the run. */
  env?: Record<string, string>;
}

export interface UpOptions extends CommonOptions {
  to?: string;
  step?: number;
  singleTransaction?: boolean;
  allowOutOfOrder?: boolean;
  forceUnsafe?: boolean;
  seed?: boolean;
  /** A folder where a pg_dump of the database is written first, when something will be applied (`--backup`). */
  backup?: string;
}

export interface PlanOptions extends CommonOptions {
  to?: string;
  step?: number;
  allowOutOfOrder?: boolean;
}

export type DownOptions = CommonOptions &
  ({ step: number } | { to: string } | { all: true }) & {
    /** Also revert migrations without a down, with one computed from the schemas (`--generate`). */
    generate?: boolean;
    /** With generate: run generated downs that drop data (`--allow-destructive`). */
    allowDestructive?: boolean;
  };

export interface LintOptions extends Omit<CommonOptions, 'wait' | 'migrationLockWait' | 'lockTimeout'> {
  files?: string[];
  all?: boolean;
  since?: string;
  pgVersion?: number;
}

export interface Step {
  /** null for a repeatable migration or a seed file, which have no version. */
  version: string | null;
  name: string;
  kind: string;
  direction: 'up' | 'down';
  path: string | null;
  transactional: boolean;
  /** null inside a --single-transaction batch */
  durationMs: number | null;
}

export interface MigrateResult {
  steps: Step[];
  /** The versions applied (or reverted), in order: those of the steps that have one. */
  versions: string[];
  currentVersion: string | null;
  durationMs: number | null;
  /** An up that applied something: histories of tools whose migrations are code that changed since the baseline (that tool still migrates here). */
  /** `warning`: what the command line says of it (null from a binary older than the package). */
  changedSinceBaseline: { tool: string; table: string; baselineAt: string | null; warning: string | null }[];
  /** Where shale took another tool's history over: migrations shale applied that the tool applied too since (an up with nothing to apply). */
  ranByBoth: SinceAdoption | null;
  /** Where shale took another tool's history over: migrations shale counts as applied that the tool reverted since. */
  revertedByTheOtherTool: SinceAdoption | null;
  /** `up({ seed: true })`: what the seeds run after the migrations did (null otherwise). */
  seeds: MigrateResult | null;
  /** `up({ backup })`: the dump written before anything was applied (null where nothing was). */
  backup: string | null;
  /** The CLI's JSON document, as printed. */
  json: Record<string, unknown>;
}

export interface LockEffect {
  line: number | null;
  table: string;
  lock: string;
  rewrites: boolean;
  scans: boolean;
}

export interface PlannedStep {
  /** null for a repeatable migration, which has no version. */
  version: string | null;
  name: string;
  direction: 'up' | 'down';
  path: string | null;
  transaction: 'own' | 'batch' | 'none' | string;
  noTransactionReason: string | null;
  statements: number | null;
  locks: LockEffect[];
}

export interface Plan {
  steps: PlannedStep[];
  /** The safety linter would refuse the plan (the CLI's exit code 2). */
  refused: boolean;
  refusal: string | null;
  json: Record<string, unknown>;
}

export type MigrationState =
  | 'applied'
  | 'pending'
  | 'modified'
  | 'missing'
  | 'failed'
  | 'out-of-order'
  | 'baseline'
  | string;

export interface Migration {
  version: string | null;
  name: string;
  kind: string;
  state: MigrationState;
  path: string | null;
  appliedAt: string | null;
  durationMs: number | null;
  error: string | null;
  /** Recorded by `shale adopt` from another tool's history: applied by that tool, not shale. */
  adopted: boolean;
  adoptedFrom: string | null;
}

/** What the tool whose history shale took over did since the switch. */
export interface SinceAdoption {
  tool: string;
  table: string;
  migrations: string[];
  /** The key of a baseline row the tool wrote since (pgmigrate's `baseline`): the migrations are
   * marked applied by it, not run. */
  markedByBaseline?: string;
}

export interface Status {
  currentVersion: string | null;
  historyExists: boolean;
  migrations: Migration[];
  pending: Migration[];
  /**
   * The histories of tools whose migrations are code (Alembic, Django, Sequelize, ...) that changed
   * since the baseline, or appeared in a database shale built: that tool still migrates here.
   */
  /** `warning`: what the command line says of it (null from a binary older than the package). */
  changedSinceBaseline: { tool: string; table: string; baselineAt: string | null; warning: string | null }[];
  /** That tool applied these too, after shale had: its migrate still runs somewhere. */
  ranByBoth: SinceAdoption | null;
  /** That tool applied these, which shale has not: `up` refuses them until they are recorded. */
  appliedByTheOtherTool: SinceAdoption | null;
  json: Record<string, unknown>;
}

export interface Finding {
  rule: string;
  severity: 'error' | 'warning' | 'info' | string;
  path: string | null;
  line: number | null;
  column: number | null;
  message: string;
  why: string;
  fix: string;
  /** Covered by a `-- shale:allow RULE` comment. */
  allowed: boolean;
  statement: string;
}

export interface SyntaxProblem {
  path: string | null;
  line: number | null;
  column: number | null;
  message: string;
}

export interface LintReport {
  /** False when the CLI would exit 1 (an error finding not allowed, or a syntax error). */
  ok: boolean;
  findings: Finding[];
  errors: Finding[];
  syntaxErrors: SyntaxProblem[];
  json: Record<string, unknown>;
}

export interface DriftOptions extends Omit<CommonOptions, 'wait' | 'migrationLockWait' | 'lockTimeout'> {
  /** A schema file, or `exec:COMMAND` (an ORM's models as DDL); else what the migrations applied there build. */
  against?: string;
  /** The server of the scratch database the migrations are replayed on. */
  devUrl?: string;
  /** Left out of the comparison on both sides: `defaults`, `comments`. */
  ignore?: ('defaults' | 'comments')[];
  /** Schemas left out of the comparison (a library's own, such as graphile-worker's). */
  excludeSchemas?: string[];
}

export interface Difference {
  object: string;
  /** What the migrations (or `against`) build; null where they have no such object. */
  expected: string | null;
  /** What the database has; null where it has no such object. */
  actual: string | null;
}

export interface Drift {
  drifted: boolean;
  differences: Difference[];
  /** The live database's objects of kinds shale does not read yet (rules, operator classes, ...): not compared. */
  unread: { kind: string; count: number; names: string[] }[];
  json: Record<string, unknown>;
}

export interface Problem {
  message: string;
  path: string | null;
  line: number | null;
  column: number | null;
  hint: string | null;
}

/** Any failure of a shale command. `message` names the file, line and column where shale knows them. */
export class ShaleError extends Error {
  /** The binary's exit status (null when it was killed by a signal). */
  exitCode: number | null;
  /** The CLI's --json error document ({} when it printed none, e.g. for a usage error). */
  json: Record<string, unknown>;
  stderr: string;
  command: string[];
}

/** A migration failed (exit 1); its transaction was rolled back. */
export class MigrationError extends ShaleError {
  /** "003 add_x" */
  migration: string | null;
  file: string | null;
  line: number | null;
  column: number | null;
  lineText: string | null;
  /** PostgreSQL's error code, e.g. "42703". */
  sqlstate: string | null;
  /** PostgreSQL's message. */
  pgMessage: string | null;
  detail: string | null;
  /** The server's hint. */
  hint: string | null;
  context: string | null;
  statement: string | null;
  /** shale's advice. */
  remedy: string | null;
  rolledBack: boolean | null;
  /** `file:line:column` */
  readonly location: string | null;
}

/** Usage, configuration or validation error (exit 2): nothing was applied. */
export class ValidationError extends ShaleError {
  problems: Problem[];
}

/** Could not connect, or could not get the migration lock (exit 3): worth retrying. */
export class UnavailableError extends ShaleError {}

/** Stopped by Ctrl-C or SIGTERM (exit 130). */
export class Interrupted extends ShaleError {
  readonly applied: string[];
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export function up(options?: UpOptions): Promise<MigrateResult>;
export function plan(options?: PlanOptions): Promise<Plan>;
export function down(options: DownOptions): Promise<MigrateResult>;
export function status(options?: CommonOptions): Promise<Status>;
export function lint(options?: LintOptions): Promise<LintReport>;
/** The live schema against the migrations (or `against`); a drift never rejects: check `drifted`. */
export function drift(options?: DriftOptions): Promise<Drift>;
/** Run `shale ARGS...`; with check (default true) a non-zero exit rejects with the ShaleError of its code. */
export function run(
  args: string[],
  options?: { cwd?: string; env?: Record<string, string>; check?: boolean },
): Promise<RunResult>;
/** The path of the shale binary this package runs (SHALE_BIN, else the platform package's). */
export function binaryPath(): string;
