'use strict';
// Which per-platform package carries the shale binary for this machine, and where the binary is.
// The main package lists every one in optionalDependencies; npm installs only the one whose
// `os`, `cpu` (and `libc`) match, as for esbuild and biome.

const fs = require('fs');
const path = require('path');

/** The platform packages built for releases: name suffix -> [os, cpu, libc]. */
const PLATFORMS = {
  'linux-x64': ['linux', 'x64', 'glibc'],
  'linux-arm64': ['linux', 'arm64', 'glibc'],
  'linux-x64-musl': ['linux', 'x64', 'musl'],
  'linux-arm64-musl': ['linux', 'arm64', 'musl'],
  'darwin-x64': ['darwin', 'x64', null],
  'darwin-arm64': ['darwin', 'arm64', null],
  'win32-x64': ['win32', 'x64', null],
};

const SCOPE = '@shale';

function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    const report = process.report && process.report.getReport();
    if (report && report.header) return !report.header.glibcVersionRuntime;
  } catch (_) {
    // fall through
  }
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch (_) {
    return false;
  }
}

/** `linux-x64`, `linux-x64-musl`, `darwin-arm64`, ... for this machine. */
function platformKey() {
  const key = `${process.platform}-${process.arch}`;
  return isMusl() ? `${key}-musl` : key;
}

function packageName(key = platformKey()) {
  return `${SCOPE}/cli-${key}`;
}

function binaryName() {
  return process.platform === 'win32' ? 'shale.exe' : 'shale';
}

/** The path of the shale binary: SHALE_BIN, else the platform package's. */
function binaryPath() {
  if (process.env.SHALE_BIN) return process.env.SHALE_BIN;
  const name = packageName();
  try {
    return require.resolve(`${name}/bin/${binaryName()}`);
  } catch (_) {
    throw new Error(
      `the shale binary for ${platformKey()} was not found: the package ${name} is not installed. ` +
        'npm installs it with `shale` through optionalDependencies; reinstall without --omit=optional ' +
        '(or --no-optional), or set SHALE_BIN to a shale binary',
    );
  }
}

module.exports = { PLATFORMS, SCOPE, platformKey, packageName, binaryName, binaryPath, path };
