// Compiled with `tsc --noEmit --strict` against the installed package by scripts/test: the
// declarations in index.d.ts describe the API as the tests use it.
import * as shale from 'shale';
import { MigrationError, ValidationError } from 'shale';

async function main(): Promise<void> {
  const r: shale.MigrateResult = await shale.up({ databaseUrl: 'x', wait: '30s', migrationLockWait: '10m', singleTransaction: true });
  const v: string | null = r.currentVersion;
  const s = await shale.status({ cwd: '.' });
  s.migrations.forEach((m) => console.log(m.state, m.appliedAt));
  await shale.down({ step: 1 });
  await shale.down({ all: true, dev: true });
  const l = await shale.lint({ files: ['a.sql'], pgVersion: 16 });
  if (!l.ok) console.log(l.errors[0].rule, l.syntaxErrors.length);
  const p = await shale.plan();
  console.log(p.steps[0]?.locks[0]?.lock, v);
  try { await shale.up(); } catch (e) {
    if (e instanceof MigrationError) console.log(e.file, e.line, e.column, e.sqlstate, e.message, e.hint, e.location);
    if (e instanceof ValidationError) console.log(e.problems[0]?.path);
    if (e instanceof shale.ShaleError) console.log(e.exitCode);
  }
  const out = await shale.run(['--version'], { check: false });
  console.log(out.stdout, shale.binaryPath());
}
main();

async function misuse(): Promise<void> {
  // @ts-expect-error down() needs one of step, to or all
  await shale.down({});
  // @ts-expect-error wait is a duration string or seconds
  await shale.up({ wait: true });
  // @ts-expect-error status results are camelCase
  (await shale.status()).current_version;
}
void misuse;
