// Prints the suite's result as one plain line, "tests: N passed, N failed[, N skipped]",
// so that any CI reads it the same way. ava's closing lines omit the passed
// count when something failed, so passes and failures are counted per line too.
import { readFileSync } from 'node:fs';

const [log, status] = process.argv.slice(2);
const text = readFileSync(log, 'utf8');
const sum = (re) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
const lines = (re) => text.split('\n').filter((l) => re.test(l)).length;

const passed = Math.max(sum(/^\s*(\d+) tests? passed/gm), lines(/^\s*✔ /));
let failed = Math.max(
  sum(/^\s*(\d+) tests? failed/gm) + sum(/^\s*(\d+) uncaught exceptions?/gm) + sum(/^\s*(\d+) unhandled rejections?/gm) + sum(/^\s*(\d+) tests? timed out/gm),
  lines(/^\s*✘ /),
);
const skipped = sum(/^\s*(\d+) tests? skipped/gm) + sum(/^\s*(\d+) tests? todo/gm);
// A non-zero exit with nothing counted (a crash before any test ran) is still a failure.
if (Number(status) !== 0 && failed === 0) failed = 1;
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
