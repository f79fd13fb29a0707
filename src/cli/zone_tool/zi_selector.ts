// ZI selectors as the original zone_tool accepted them, resolved against a zone's list of ZIs (pure: the clock is a
// parameter). Forms:
//   123            a ZI id                     ^            the published ZI
//   ^- ^-- ^-3     1, 2 or 3 ZIs older than the published one (by creation time); ^+ ^++ ^+3 newer
//   123-2 123+     relative to ZI 123
//   @3d @12h @30m @90s @2w   the newest ZI created at least that long ago
//   DD/MM/YYYY  YYYY-MM-DD  (optionally ",hh:mm[am|pm]"), DD/MM (this year or last), hh:mm[am|pm] (today or yesterday)
//                          the newest ZI created at or before that time (local time)
//   * or 0         no selector (all / the default)

import { EX, ZoneToolError } from './errors.js';

export interface ZiRef {
  id: number;
  ctime: Date;
}

export type ZiSelector =
  | { kind: 'default' }
  | { kind: 'id'; id: number }
  | { kind: 'relative'; pivot: 'published' | number; delta: number }
  | { kind: 'before'; time: Date };

function syntaxError(text: string, why: string): ZoneToolError {
  return new ZoneToolError(`ZI selector '${text}' - ${why}`, EX.USAGE, 'ZiIdSyntaxError');
}

function parseAdjustment(text: string, adj: string): number {
  if (/^-+$/.test(adj)) return -adj.length;
  if (/^\++$/.test(adj)) return adj.length;
  const m = /^([-+])(\d+)$/.exec(adj);
  if (!m) throw syntaxError(text, "adjustment must be '-', '--', '-n', '+', '++' or '+n'");
  return (m[1] === '-' ? -1 : 1) * Number(m[2]);
}

function hourMinute(text: string, h: string, m: string, ampm: string | undefined): [number, number] {
  let hour = Number(h);
  const minute = Number(m);
  if (!Number.isInteger(hour) || !Number.isInteger(minute) || minute > 59 || hour > 23 || h === '' || m === '') {
    throw syntaxError(text, 'bad time, use hh:mm[am|pm]');
  }
  if (ampm?.toLowerCase().startsWith('p') && hour < 12) hour += 12;
  if (ampm?.toLowerCase().startsWith('a') && hour === 12) hour = 0;
  return [hour, minute];
}

function makeDate(text: string, y: number, mo: number, d: number, hh: number, mm: number): Date {
  if (y >= 70 && y <= 99) y += 1900;
  else if (y >= 0 && y < 70) y += 2000;
  const dt = new Date(y, mo - 1, d, hh, mm, 0, 0);
  if (Number.isNaN(dt.getTime()) || dt.getMonth() !== mo - 1 || dt.getDate() !== d) {
    throw syntaxError(text, 'no such date');
  }
  return dt;
}

const AMPM = '(am|pm|a|p)?';

/** Parse a selector string; `now` anchors the relative and partial-date forms. */
export function parseZiSelector(text: string, now: Date): ZiSelector {
  const t = text.trim();
  if (t === '' || t === '*' || t === '0') return { kind: 'default' };
  if (/^\d+$/.test(t)) return { kind: 'id', id: Number(t) };
  if (t === '^') return { kind: 'relative', pivot: 'published', delta: 0 };
  let m = /^\^(.+)$/.exec(t);
  if (m) return { kind: 'relative', pivot: 'published', delta: parseAdjustment(t, m[1]) };
  m = /^@(\d+(?:\.\d+)?)([smhdw])$/.exec(t);
  if (m) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return { kind: 'before', time: new Date(now.getTime() - Number(m[1]) * unit * 1000) };
  }
  if (t.startsWith('@')) throw syntaxError(t, "age must look like '@3d' (units s, m, h, d, w)");
  m = new RegExp(`^(\\d+)/(\\d+)/(\\d+)(?:,(\\d+):(\\d+)${AMPM})?$`, 'i').exec(t);
  if (m) {
    const [hh, mm] = m[4] !== undefined ? hourMinute(t, m[4], m[5], m[6]) : [0, 0];
    return { kind: 'before', time: makeDate(t, Number(m[3]), Number(m[2]), Number(m[1]), hh, mm) };
  }
  m = new RegExp(`^(\\d{4})-(\\d+)-(\\d+)(?:[,T ](\\d+):(\\d+)${AMPM})?$`, 'i').exec(t);
  if (m) {
    const [hh, mm] = m[4] !== undefined ? hourMinute(t, m[4], m[5], m[6]) : [0, 0];
    return { kind: 'before', time: makeDate(t, Number(m[1]), Number(m[2]), Number(m[3]), hh, mm) };
  }
  m = /^(\d+)\/(\d+)$/.exec(t);
  if (m) {
    let dt = makeDate(t, now.getFullYear(), Number(m[2]), Number(m[1]), 0, 0);
    if (dt > now) dt = makeDate(t, now.getFullYear() - 1, Number(m[2]), Number(m[1]), 0, 0);
    return { kind: 'before', time: dt };
  }
  m = new RegExp(`^(\\d+):(\\d+)${AMPM}$`, 'i').exec(t);
  if (m) {
    const [hh, mm] = hourMinute(t, m[1], m[2], m[3]);
    const dt = new Date(now.getFullYear(), now.getMonth(), now.getDate(), hh, mm, 0, 0);
    if (dt > now) dt.setDate(dt.getDate() - 1);
    return { kind: 'before', time: dt };
  }
  m = /^(\d+)(-+|\++|-\d+|\+\d+)$/.exec(t);
  if (m) return { kind: 'relative', pivot: Number(m[1]), delta: parseAdjustment(t, m[2]) };
  throw syntaxError(
    t,
    "use an id, '^', '^-', '^+n', 'id-n', '@3d', 'DD/MM/YYYY[,hh:mm]', 'YYYY-MM-DD[,hh:mm]', 'DD/MM' or 'hh:mm'",
  );
}

/**
 * Resolve a selector to a ZI id, or null when no ZI matches. `zis` may be in any order; ordering is by creation
 * time then id (ids grow with time, which breaks ties between ZIs created in the same second).
 */
export function resolveZiSelector(sel: ZiSelector, zis: readonly ZiRef[], publishedId: number | null): number | null {
  const sorted = [...zis].sort((a, b) => a.ctime.getTime() - b.ctime.getTime() || a.id - b.id);
  switch (sel.kind) {
    case 'default':
      return publishedId;
    case 'id':
      return sorted.some((z) => z.id === sel.id) ? sel.id : null;
    case 'relative': {
      const pivotId = sel.pivot === 'published' ? publishedId : sel.pivot;
      if (pivotId === null) return null;
      const idx = sorted.findIndex((z) => z.id === pivotId);
      if (idx < 0) return null;
      const target = sorted[idx + sel.delta];
      return target ? target.id : null;
    }
    case 'before': {
      let found: number | null = null;
      for (const z of sorted) if (z.ctime.getTime() <= sel.time.getTime()) found = z.id;
      return found;
    }
  }
}
