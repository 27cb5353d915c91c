/** The package version, for every program's --version: read from package.json, wherever this file was built to. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'oauth-ssh' && pkg.version) return pkg.version;
    } catch {
      // not here: look further up
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
