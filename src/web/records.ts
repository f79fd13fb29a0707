// The records of a zone file as show_zone writes it (src/zonefile/writer.ts: one record a line, tab-separated, DMS
// comments `;#`, flags `;!` and group headings `;|` on lines of their own). Pure: unit-tested in test/unit.

export interface Rec {
  name: string;
  ttl: number;
  type: string;
  rdata: string;
  line: number;
  /** The DMS comment (`;#`) and flags (`;!`) lines written above the record, and its `;|` group. */
  notes?: string;
}

/** The records of show_zone's text (one record a line: owner, TTL, class, type, RDATA, tab-separated). */
export function parseRecords(text: string): Rec[] {
  const out: Rec[] = [];
  let pending: string[] = [];
  let group: string[] = [];
  let inGroupHeading = false;
  text.split('\n').forEach((raw, i) => {
    const l = raw.replace(/\s+$/, '');
    if (l.startsWith(';|')) {
      // Consecutive `;|` lines are one group heading; it names the records that follow, up to the next heading.
      if (!inGroupHeading) group = [];
      group.push(l.slice(2).trim());
      inGroupHeading = true;
      return;
    }
    inGroupHeading = false;
    if (l.startsWith(';#')) {
      pending.push(l.slice(2).trim());
      return;
    }
    if (l.startsWith(';!')) {
      pending.push(`flags: ${l.slice(2).trim()}`);
      return;
    }
    if (!l || l.startsWith(';') || l.startsWith('$')) return;
    const f = l.includes('\t') ? l.split('\t') : l.split(/\s+/);
    if (f.length < 5) return;
    const [name, ttl, , type, ...rest] = f;
    const notes = [...(group.length ? [`group: ${group.join(' ').trim()}`] : []), ...pending].join('; ');
    out.push({ name, ttl: Number(ttl), type: type.toUpperCase(), rdata: rest.join(l.includes('\t') ? '\t' : ' '), line: i + 1, ...(notes ? { notes } : {}) });
    pending = [];
  });
  return out;
}
