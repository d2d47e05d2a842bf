// node:test reporter printing one PASS/FAIL line per test, the tests' diagnostics (what each
// library emitted), the failure details, and a closing "N passed, N failed" line.
import { relative } from 'node:path';
import { inspect } from 'node:util';

export default async function* reporter(source) {
  let passed = 0;
  let failed = 0;
  for await (const event of source) {
    const d = event.data ?? {};
    const where = d.file ? `${relative(process.cwd(), d.file)} > ` : '';
    switch (event.type) {
      case 'test:pass':
        if (d.details?.type === 'suite') break;
        passed++;
        yield `PASS ${where}${d.name} (${Math.round(d.details?.duration_ms ?? 0)} ms)\n`;
        break;
      case 'test:fail': {
        if (d.details?.type === 'suite') break;
        failed++;
        const err = d.details?.error;
        const cause = err?.cause ?? err;
        yield `FAIL ${where}${d.name}\n${indent(cause instanceof Error ? cause.stack ?? String(cause) : inspect(cause, { depth: 4 }))}\n`;
        break;
      }
      case 'test:diagnostic':
        // Per-test notes have nesting >= 0 and come from t.diagnostic(); the runner's own
        // summary ("tests 3", "pass 3", ...) is replaced by the closing line below.
        if (!/^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(d.message)) {
          yield `  note: ${d.message}\n`;
        }
        break;
      case 'test:stderr':
      case 'test:stdout':
        yield indent(d.message ?? '');
        break;
      default:
        break;
    }
  }
  // The tier's name, from its script (or `npm test`'s package name).
  const label = process.env.L402_REPORT_LABEL ?? process.env.npm_package_name ?? 'tests';
  yield `${label}: ${passed} passed, ${failed} failed\n`;
}

const indent = (s) => s.replace(/^(?=.)/gm, '    ');
