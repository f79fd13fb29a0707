// Small shared pieces: links, error boxes, field messages, the unified-diff view, a generic data table.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { RpcError } from './api.js';

/** Hash routes: the app is one page, so a URL names a screen without the server knowing the routes. */
export function href(path: string, query?: Record<string, string | undefined>): string {
  const q = query
    ? Object.entries(query)
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v!)}`)
        .join('&')
    : '';
  return `#${path}${q ? `?${q}` : ''}`;
}

export function go(path: string, query?: Record<string, string | undefined>): void {
  location.hash = href(path, query);
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An error for the whole form or screen; announced to screen readers. */
export function ErrorBox({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  const problems = error instanceof RpcError ? error.problems.filter((p) => !p.path && p.line === undefined) : [];
  return (
    <div class="error" role="alert" id={id}>
      <p>{messageOf(error)}</p>
      {problems.length > 0 && (
        <ul>
          {problems.map((p) => (
            <li>{p.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <span class="field-error" id={id} role="alert">
      {message}
    </span>
  );
}

export function Notice({ children, kind = 'info' }: { children: ComponentChildren; kind?: 'info' | 'warn' | 'ok' }) {
  return (
    <div class={`notice ${kind}`} role="status">
      {children}
    </div>
  );
}

/** A unified diff, lines coloured and marked (+/-) so that colour is not the only cue. */
export function DiffView({ diff, label }: { diff: string; label: string }) {
  const lines = diff.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const changed = lines.some((l) => (l.startsWith('+') || l.startsWith('-')) && !l.startsWith('+++') && !l.startsWith('---'));
  return (
    <figure class="diff">
      <figcaption>{label}</figcaption>
      {!changed ? (
        <p>No differences.</p>
      ) : (
        // Focusable: a scrolling box must be reachable by keyboard (WCAG 2.1.1).
        // biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable region
        <pre tabIndex={0}>
          {lines.map((l) => {
            const cls = l.startsWith('+++') || l.startsWith('---') ? 'hdr' : l.startsWith('@@') ? 'hunk' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : '';
            return <span class={`line ${cls}`}>{`${l}\n`}</span>;
          })}
        </pre>
      )}
    </figure>
  );
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(cell).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Rows of objects as a table, columns from the first rows' keys (or given). */
export function DataTable({ rows, columns, caption }: { rows: Record<string, unknown>[]; columns?: string[]; caption: string }) {
  const cols = columns ?? [...new Set(rows.slice(0, 20).flatMap((r) => Object.keys(r)))];
  if (rows.length === 0) return <p>{caption}: none.</p>;
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard (WCAG 2.1.1)
    <section class="table-wrap" tabIndex={0} aria-label={caption}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {cols.map((c) => (
              <th scope="col">{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              {cols.map((c) => (
                <td>{cell(r[c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The screen's heading takes the focus when the screen changes, so keyboard and screen-reader users start there. */
export function Heading({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function fmtTime(t: string | null | undefined): string {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
