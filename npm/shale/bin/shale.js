#!/usr/bin/env node
'use strict';
// `shale` from node_modules/.bin: runs the platform package's binary with the same arguments,
// standard streams and exit status.
const { spawnSync } = require('child_process');
const { binaryPath } = require('../platform');

let binary;
try {
  binary = binaryPath();
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exit(2);
}
const result = spawnSync(binary, process.argv.slice(2), { stdio: 'inherit' });
if (result.error) {
  console.error(`error: running ${binary}: ${result.error.message}`);
  process.exit(2);
}
if (result.signal) {
  process.kill(process.pid, result.signal);
}
process.exit(result.status === null ? 1 : result.status);
