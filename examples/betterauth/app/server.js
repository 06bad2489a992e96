'use strict';
// The BetterAuth backend's start-up on shale: the six migrations run before the server listens
// (they replace `python backend/migrations/run_migrations.py` / `psql -f`), and a failed one
// stops start-up with its file:line:column. Every instance may run it at once: shale's lock lets
// one apply, the others wait and find nothing pending.
//
// shale runs in the example's directory, so it reads its shale.toml (dir = "migrations",
// database_url_env = "NEON_DB_URL", connect_wait = "30s") and .env, exactly as `shale up` there.
//
//   NEON_DB_URL=postgresql://...?sslmode=require PORT=3000 node server.js

const http = require('http');
const path = require('path');
const shale = require('shale');

const PROJECT = process.env.SHALE_PROJECT || path.resolve(__dirname, '..');

async function migrate() {
  try {
    return await shale.up({ cwd: PROJECT });
  } catch (e) {
    if (e instanceof shale.MigrationError) {
      console.error(`refusing to start: migration failed at ${e.location}: ${e.pgMessage} (SQLSTATE ${e.sqlstate})`);
    } else {
      console.error(`refusing to start: ${e.message}`);
    }
    process.exit(1);
  }
}

async function main() {
  const result = await migrate();
  console.error(
    `database at version ${result.currentVersion}; this instance applied ${result.versions.join(', ') || 'nothing'}`,
  );
  const server = http.createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'healthy', version: result.currentVersion, appliedAtStartup: result.versions }));
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
    console.error(`listening on ${server.address().port}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
