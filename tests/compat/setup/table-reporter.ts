import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

type Counts = { passed: number; failed: number; skipped: number };
const DIALECTS = ['sqlite', 'postgres'] as const;

/**
 * Prints the compatibility table: one row per client, scenarios passed/failed/skipped per dialect.
 * Suites are titled `<client> [<dialect>]` (tests/compat/setup/targets.ts). Markdown, so it can go in the README.
 */
export default class CompatTableReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows = new Map<string, Record<string, Counts>>();
    for (const m of modules) {
      for (const test of m.children.allTests()) {
        const top = topSuite(test);
        const match = /^(.*) \[(sqlite|postgres)\]$/.exec(top?.name ?? '');
        if (!match) continue;
        const [, client, dialect] = match;
        const row = rows.get(client) ?? Object.fromEntries(DIALECTS.map((d) => [d, { passed: 0, failed: 0, skipped: 0 }]));
        rows.set(client, row);
        const state = test.result().state;
        row[dialect][state === 'passed' ? 'passed' : state === 'failed' ? 'failed' : 'skipped']++;
      }
    }
    if (rows.size === 0) return;
    const cell = (c: Counts) => {
      const total = c.passed + c.failed + c.skipped;
      if (total === 0) return '—';
      const parts = [`${c.passed}/${total} passed`];
      if (c.failed) parts.push(`**${c.failed} failed**`);
      if (c.skipped) parts.push(`${c.skipped} skipped`);
      return parts.join(', ');
    };
    const lines = ['', 'Compatibility (client → scenarios)', '', '| client | SQLite | PostgreSQL |', '| --- | --- | --- |'];
    for (const [client, row] of rows) lines.push(`| ${client} | ${cell(row.sqlite)} | ${cell(row.postgres)} |`);
    process.stdout.write(lines.join('\n') + '\n\n');
  }
}

function topSuite(test: TestCase): TestSuite | undefined {
  let parent = test.parent;
  let top: TestSuite | undefined;
  while (parent.type === 'suite') { top = parent; parent = parent.parent; }
  return top;
}
