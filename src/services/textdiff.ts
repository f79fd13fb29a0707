// Unified diff of two texts (diff -u style), pure: what diff_zones / diff_zi return and what zone_tool prints. Common
// prefix/suffix are trimmed first so the usual small edit of a large zone costs little; the middle is an LCS table,
// bounded to keep memory sane.

type Op = { mark: ' ' | '-' | '+'; line: string };

function lcsOps(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // Beyond this size fall back to "all removed, all added": correct, just not minimal.
  if (n * m > 25_000_000) {
    return [...a.map((line) => ({ mark: '-' as const, line })), ...b.map((line) => ({ mark: '+' as const, line }))];
  }
  const w = m + 1;
  const t = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i * w + j] = a[i] === b[j] ? t[(i + 1) * w + j + 1] + 1 : Math.max(t[(i + 1) * w + j], t[i * w + j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ mark: ' ', line: a[i] });
      i++;
      j++;
    } else if (t[(i + 1) * w + j] >= t[i * w + j + 1]) {
      ops.push({ mark: '-', line: a[i++] });
    } else {
      ops.push({ mark: '+', line: b[j++] });
    }
  }
  while (i < n) ops.push({ mark: '-', line: a[i++] });
  while (j < m) ops.push({ mark: '+', line: b[j++] });
  return ops;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Unified diff with `context` lines around changes; '' when the texts are equal. */
export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string, context = 3): string {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  if (pre === a.length && pre === b.length) return '';
  const ops: Op[] = [
    ...a.slice(0, pre).map((line) => ({ mark: ' ' as const, line })),
    ...lcsOps(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf)),
    ...a.slice(a.length - suf).map((line) => ({ mark: ' ' as const, line })),
  ];
  // Group changes into hunks with context.
  const out: string[] = [`--- ${oldName}`, `+++ ${newName}`];
  let idx = 0;
  let aLine = 1;
  let bLine = 1;
  const posA: number[] = [];
  const posB: number[] = [];
  for (const op of ops) {
    posA.push(aLine);
    posB.push(bLine);
    if (op.mark !== '+') aLine++;
    if (op.mark !== '-') bLine++;
  }
  while (idx < ops.length) {
    while (idx < ops.length && ops[idx].mark === ' ') idx++;
    if (idx >= ops.length) break;
    const start = Math.max(0, idx - context);
    let end = idx;
    let lastChange = idx;
    while (end < ops.length) {
      if (ops[end].mark !== ' ') lastChange = end;
      else if (end - lastChange > 2 * context) break;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o.mark !== '+').length;
    const bCount = hunk.filter((o) => o.mark !== '-').length;
    const aStart = aCount === 0 ? posA[start] - 1 : posA[start];
    const bStart = bCount === 0 ? posB[start] - 1 : posB[start];
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    for (const o of hunk) out.push(`${o.mark}${o.line}`);
    idx = end;
  }
  return `${out.join('\n')}\n`;
}
