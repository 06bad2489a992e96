#!/usr/bin/env node
'use strict';
// Builds the npm packages for this platform and packs them (npm pack) into npm/dist/:
//   @shale/cli-<os>-<cpu>[-musl]   the shale binary, with `os`, `cpu` (and `libc`) fields
//   shale                          the JS API and the `shale` bin; finds the binary through
//                                  optionalDependencies, one per platform (esbuild's and biome's shape)
//
//   node npm/build.js [--binary PATH] [--out DIR]
//
// Without --binary it runs `cargo build --profile dist -p shale-cli` (the profile the Python
// wheel is built with, so after `maturin build` there is nothing left to compile) and takes
// target/dist/shale. Prints the paths of the two tarballs, the platform package first.

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { PLATFORMS, packageName, platformKey, binaryName } = require('./shale/platform');

const root = path.resolve(__dirname, '..');

function option(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function workspaceVersion() {
  const cargo = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
  const section = cargo.split('[workspace.package]')[1] || '';
  const match = section.match(/^version\s*=\s*"([^"]+)"/m);
  if (!match) throw new Error('no version in [workspace.package] of Cargo.toml');
  return match[1];
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function pack(dir, out) {
  const output = execFileSync('npm', ['pack', '--pack-destination', out, '--json'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return path.join(out, JSON.parse(output)[0].filename);
}

function main() {
  const out = path.resolve(option('--out') || path.join(__dirname, 'dist'));
  let binary = option('--binary') || process.env.SHALE_BINARY;
  if (!binary) {
    execFileSync('cargo', ['build', '--profile', 'dist', '-p', 'shale-cli'], { cwd: root, stdio: 'inherit' });
    binary = path.join(root, 'target', 'dist', binaryName());
  }
  const version = workspaceVersion();
  const key = platformKey();
  if (!PLATFORMS[key]) throw new Error(`no npm package is defined for ${key}`);
  const [os, cpu, libc] = PLATFORMS[key];

  const stage = path.join(out, 'stage');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });

  // The platform package: the binary alone.
  const platformDir = path.join(stage, `cli-${key}`);
  fs.mkdirSync(path.join(platformDir, 'bin'), { recursive: true });
  fs.copyFileSync(binary, path.join(platformDir, 'bin', binaryName()));
  fs.chmodSync(path.join(platformDir, 'bin', binaryName()), 0o755);
  const platformManifest = {
    name: packageName(key),
    version,
    description: `The shale binary for ${key} (installed by the \`shale\` package)`,
    license: 'MIT OR Apache-2.0',
    os: [os],
    cpu: [cpu],
    files: [`bin/${binaryName()}`],
    preferUnplugged: true,
  };
  if (libc) platformManifest.libc = [libc];
  writeJson(path.join(platformDir, 'package.json'), platformManifest);
  fs.writeFileSync(
    path.join(platformDir, 'README.md'),
    `# ${packageName(key)}\n\nThe \`shale\` binary for ${key}. Install \`shale\` instead: it depends on this package.\n`,
  );

  // The main package: the JS API, the bin, every platform package as an optional dependency.
  const mainDir = path.join(stage, 'shale');
  fs.cpSync(path.join(__dirname, 'shale'), mainDir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(mainDir, 'package.json'), 'utf8'));
  manifest.version = version;
  manifest.optionalDependencies = Object.fromEntries(Object.keys(PLATFORMS).map((k) => [packageName(k), version]));
  writeJson(path.join(mainDir, 'package.json'), manifest);

  const tarballs = [pack(platformDir, out), pack(mainDir, out)];
  fs.rmSync(stage, { recursive: true, force: true });
  for (const t of tarballs) console.log(t);
}

main();
