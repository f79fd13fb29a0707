import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Name } from '../../src/dns/name.js';
import { checkZone, parseZoneText, type ZoneFileProblem } from '../../src/zonefile/index.js';

const origin = Name.from('example.org');
const head = '$TTL 300\n@ IN SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n';

function check(body: string, withHead = true) {
  const r = parseZoneText((withHead ? head : '$TTL 300\n') + body, { origin, file: 'c.zone' });
  assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), [], 'fixture must parse');
  return checkZone(origin, r.records);
}
function only(problems: ZoneFileProblem[], severity: 'error' | 'warning') {
  return problems.filter((p) => p.severity === severity);
}

test('a clean zone has no problems and keeps every record', () => {
  const c = check('www A 192.0.2.2\nmail A 192.0.2.3\n@ MX 10 mail\n');
  assert.deepEqual(c.problems, []);
  assert.equal(c.records.length, 6);
});

test('SOA: none, two, below the apex', () => {
  assert.match(only(check('@ NS ns1\nns1 A 192.0.2.1\n', false).problems, 'error')[0].message, /no SOA record/);
  const two = only(check('@ SOA ns1 host 2 2 3 4 5\n').problems, 'error');
  assert.equal(two.length, 1);
  assert.match(two[0].message, /more than one SOA/);
  assert.deepEqual([two[0].file, two[0].line, two[0].column], ['c.zone', 5, 1]);
  assert.match(only(check('x SOA ns1 host 2 2 3 4 5\n').problems, 'error')[0].message, /not the zone apex/);
});

test('apex NS: missing, target without address (error), target a CNAME (error)', () => {
  const none = only(check('@ SOA ns1 host 1 2 3 4 5\nns1 A 192.0.2.1\n', false).problems, 'error');
  assert.equal(none.length, 1);
  assert.match(none[0].message, /no NS records at the zone apex/);
  assert.match(only(check('@ NS ns2\n').problems, 'error')[0].message, /ns2.example.org. has no address records/);
  assert.match(only(check('@ NS cn\ncn CNAME ns1\n').problems, 'error')[0].message, /is a CNAME/);
  // Out-of-zone NS targets are not our business.
  assert.deepEqual(check('@ NS ns.example.net.\n').problems, []);
});

test('CNAME exclusivity, with the DNSSEC types allowed beside it', () => {
  const e = only(check('www CNAME ns1\nwww A 192.0.2.2\nwww TXT "x"\n').problems, 'error');
  assert.equal(e.length, 2);
  assert.match(e[0].message, /CNAME and other data: www.example.org. has a CNAME \(line 5 of c.zone\) and A records/);
  assert.equal(e[0].line, 6);
  assert.match(only(check('www CNAME a\nwww CNAME b\n').problems, 'error')[0].message, /more than one CNAME/);
  assert.deepEqual(
    check('www CNAME ns1\nwww RRSIG CNAME 8 3 300 20300101000000 20200101000000 1234 example.org. AAAA\nwww NSEC ns1 CNAME RRSIG NSEC\n').problems,
    [],
  );
  assert.match(only(check('@ CNAME ns1\n').problems, 'error')[0].message, /CNAME and other data/);
});

test('one DNAME per owner (RFC 6672 §2.4)', () => {
  const e = only(check('dn DNAME a.example.net.\ndn DNAME b.example.net.\n').problems, 'error');
  assert.equal(e.length, 1);
  assert.match(e[0].message, /more than one DNAME record at dn\.example\.org\. \(line 5 of c\.zone\)/);
  assert.deepEqual(check('dn DNAME a.example.net.\ndn A 192.0.2.1\n').problems, []);
});

test('names below a DNAME are occluded: one warning at the DNAME, naming the first in zone order and the count (Knot refuses such zones)', () => {
  // Line 5 is the DNAME; two names below it (one spelled in capitals, one nested deeper), one disabled, one beside.
  const body = 'dn DNAME a.example.net.\nDeep.x.dn TXT "below"\n;!DISABLE\noff.dn A 192.0.2.9\nh.dn A 192.0.2.7\nh.dn AAAA 2001:db8::7\nbeside A 192.0.2.8\n';
  const w = only(check(body).problems, 'warning');
  assert.equal(w.length, 1, JSON.stringify(w));
  assert.equal(w[0].line, 5);
  assert.match(w[0].message, /records below the DNAME at dn\.example\.org\. are occluded \(never served; RFC 6672 §2\.4\): Deep\.x\.dn\.example\.org\. and 1 more name; Knot DNS secondaries refuse such a zone/);
  assert.equal(only(check(body).problems, 'error').length, 0, 'a warning only: BIND loads such a zone, occluding the names');
  // A label holding an escaped dot ends in the DNAME's text but is not below it; nothing below: nothing said.
  assert.deepEqual(check('dn DNAME a.example.net.\nx\\.dn TXT "beside"\n').problems, []);
  assert.deepEqual(check('dn DNAME a.example.net.\n;!DISABLE\nx.dn TXT "disabled"\n').problems, []);
  // Nested DNAMEs: each tells of the names below it.
  const nested = only(check('dn DNAME a.example.net.\nx.dn DNAME b.example.net.\ny.x.dn TXT "deep"\n').problems, 'warning');
  assert.deepEqual(nested.map((p) => p.line), [5, 6]);
  assert.match(nested[0].message, /at dn\.example\.org\. .*: x\.dn\.example\.org\. and 1 more name;/);
  assert.match(nested[1].message, /at x\.dn\.example\.org\. .*: y\.x\.dn\.example\.org\.;/);
});

test('a DNAME beside NS below the apex is occluded by the delegation: a warning (Knot refuses such zones)', () => {
  const w = only(check('dn DNAME a.example.net.\ndn NS ns.example.net.\n').problems, 'warning');
  assert.equal(w.length, 1, JSON.stringify(w));
  assert.equal(w[0].line, 5);
  assert.match(w[0].message, /DNAME beside NS records at dn\.example\.org\. \(line 6 of c\.zone\): the delegation occludes it/);
  // At the apex NS and DNAME stand together (the apex NS is no delegation); names below an apex DNAME are occluded.
  const apex = only(check('@ DNAME example.net.\n').problems, 'warning');
  assert.equal(apex.length, 1, JSON.stringify(apex));
  assert.match(apex[0].message, /records below the DNAME at example\.org\. are occluded .*: ns1\.example\.org\.;/);
});

test('out-of-zone records are rejected (BIND only warns; DMS must not drop data silently)', () => {
  const e = only(check('www.example.com. A 192.0.2.1\n').problems, 'error');
  assert.equal(e.length, 1);
  assert.match(e[0].message, /www.example.com. A is out of zone/);
  assert.equal(e[0].line, 5);
  // A name that merely ends with the same characters is not in the zone.
  assert.equal(only(check('xexample.org. A 192.0.2.1\n').problems, 'error').length, 1);
});

test('TTL above 2^31-1 is an error at parse time (RFC 2181 §8)', () => {
  const r = parseZoneText('x 2147483648 A 192.0.2.1\n', { origin });
  assert.equal(r.records.length, 0);
  assert.match(r.problems[0].message, /larger than 2147483647/);
});

test('delegations: missing glue and target without addresses are warnings, glue present is fine', () => {
  assert.deepEqual(check('sub NS ns.sub\nns.sub A 192.0.2.9\n').problems, []);
  const w = check('sub NS ns.sub\nsub NS ns9\n').problems;
  assert.deepEqual(w.map((p) => p.severity), ['warning', 'warning']);
  assert.match(w[0].message, /missing glue: NS target ns.sub.example.org. of the delegation sub.example.org./);
  assert.match(w[1].message, /ns9.example.org. of the delegation sub.example.org. has no address records/);
});

test('MX/SRV targets in the zone without addresses or pointing at a CNAME are warnings', () => {
  const w = check('@ MX 10 nowhere\n@ MX 20 cn\ncn CNAME ns1\n_s._tcp SRV 0 0 1 gone\n@ MX 0 .\n').problems;
  assert.deepEqual(w.map((p) => p.severity), ['warning', 'warning', 'warning']);
  assert.match(w[0].message, /MX target nowhere.example.org. .* no address records/);
  assert.match(w[1].message, /MX target cn.example.org. .* is a CNAME/);
  assert.match(w[2].message, /SRV target gone.example.org./);
});

test('RRset TTL mismatch is reported once per RRset', () => {
  const w = check('t 100 A 192.0.2.1\nt 200 A 192.0.2.2\nt 300 A 192.0.2.3\nu 5 TXT "a"\nu 5 TXT "b"\n').problems;
  assert.equal(w.length, 1);
  assert.equal(w[0].severity, 'warning');
  assert.match(w[0].message, /TTL 200 differs from the TTL 100 of the rest of the t.example.org. A RRset \(line 5 of c.zone\)/);
  assert.equal(w[0].line, 6);
  assert.match(w[0].message, /the RRset gets TTL 300 \(its last record's, RFC 2181 §5\.2\)/);
});

test('an RRset of mixed TTLs is given its last record\'s TTL (as served), disabled records keeping theirs', () => {
  const c = check('t 100 A 192.0.2.1\nt 200 A 192.0.2.2\n;!disable\nt 50 A 192.0.2.9\nt 300 A 192.0.2.3\nt 7 TXT "own TTL"\n');
  const ttls = c.records.filter((r) => r.name.toString() === 't.example.org.').map((r) => `${r.type}/${r.ttl}${r.flags?.disable ? '/disabled' : ''}`);
  assert.deepEqual(ttls, ['1/300', '1/300', '1/50/disabled', '1/300', '16/7']);
});

test('duplicates (names compared case-insensitively, also in RDATA) are folded with a warning, first kept', () => {
  const c = check('www A 192.0.2.7\nWWW A 192.0.2.7\nwww 60 A 192.0.2.7\nm MX 1 NS1\nm MX 1 ns1\n');
  assert.equal(c.records.length, 3 + 2);
  const w = only(c.problems, 'warning').filter((p) => /duplicate/.test(p.message));
  assert.deepEqual(w.map((p) => p.line), [6, 7, 9]);
  assert.ok(c.records.some((r) => r.line === 5));
  assert.ok(!c.records.some((r) => r.line === 6 || r.line === 7 || r.line === 9));
});

test('disabled records are kept and returned but take no part in the semantic checks', () => {
  const c = check(';!DISABLE\nwww CNAME ns1\nwww A 192.0.2.2\n;!DISABLE\nx SOA ns1 host 1 2 3 4 5\n');
  assert.deepEqual(c.problems, []);
  assert.equal(c.records.filter((r) => r.flags?.disable).length, 2);
  // A disabled copy and a served copy are different data, not duplicates.
  const d = check('y A 192.0.2.3\n;!DISABLE\ny A 192.0.2.3\n');
  assert.deepEqual(d.problems, []);
  assert.equal(d.records.length, 3 + 2);
});

test('problems without a known position still name something', () => {
  const c = checkZone(origin, []);
  assert.deepEqual(c.problems.map((p) => [p.file, p.line, p.column, p.severity]), [['<zone>', 0, 0, 'error'], ['<zone>', 0, 0, 'error']]);
});

test('duplicate folding at a large owner (hashed path) and a huge RRset stays fast', () => {
  let body = '';
  for (let i = 0; i < 40; i++) body += `big A 10.0.0.${i}\n`;
  body += 'BIG A 10.0.0.7\nbig A 10.0.0.39\n';
  const c = check(body);
  assert.deepEqual(only(c.problems, 'warning').map((p) => p.line), [45, 46]);
  assert.equal(c.records.length, 3 + 40);
  // 20,000 records at one owner: pairwise comparison would be 200 million steps.
  const t0 = performance.now();
  const r = parseZoneText(`${head}$GENERATE 1-20000 wide TXT "r$"\n`, { origin });
  const problems = checkZone(origin, r.records).problems;
  assert.deepEqual(
    problems.map((p) => p.severity),
    ['warning'],
    'only the warning that BIND secondaries refuse an RRset that large',
  );
  assert.ok(performance.now() - t0 < 10_000, 'fast');
});

test('RRsets of more than 100 records and names of more than 100 types are warned of: BIND secondaries refuse them by default', () => {
  let body = '';
  for (let i = 0; i < 100; i++) body += `rr A 10.0.0.${i}\n`;
  assert.deepEqual(check(body).problems, [], '100 records: fine');
  body += 'rr A 10.0.1.0\nrr A 10.0.1.1\n';
  const w = check(body).problems;
  assert.equal(w.length, 1);
  assert.equal(w[0].severity, 'warning');
  assert.equal(w[0].line, 5 + 100);
  assert.match(w[0].message, /the rr\.example\.org\. A RRset has more than 100 records: BIND secondaries refuse .*max-records-per-type 100/);
  let types = '';
  for (let t = 0; t < 101; t++) types += `many TYPE${1000 + t} \\# 1 0${t % 10}\n`;
  const t = check(types).problems;
  assert.equal(t.length, 1);
  assert.match(t[0].message, /many\.example\.org\. has records of 101 types: BIND secondaries refuse more than 100 .*max-types-per-name/);
});
