// The key-encryption key (KEK) that seals DNSSEC private keys in the database (AES-256-GCM), so a dump or a replica
// of the database holds no usable private key: an attacker needs the database AND the KEK file.
//
// Where it comes from (the design): each process's composition root (zone_tool's services.ts, dmsd's main.ts)
// decides where the KEK lives — `--dnssec-kek FILE`, else DMS_DNSSEC_KEK, else `dnssec_kek` in the --config file,
// else `<data directory>/dnssec-kek` (kekLocation) — and passes a KekSource in the ServiceContext (`ctx.kek`). The services only ever call `ctx.kek.load()`, and only when
// they seal or open a key: a process that never touches DNSSEC never reads the file, and tests pass a KEK held in
// memory. The one piece of file I/O in the services is `kekFile` below. It lives here rather than in each caller
// because every caller needs the same rules, and getting them subtly different would be a security bug: created on
// first use with mode 0600 and O_EXCL (two processes creating it at once end up with one KEK, never two), refused
// when group or others can read it, and never created when keys sealed under another KEK exist (a lost file must
// be an error, not a fresh KEK that silently leaves the stored keys unusable).

import type * as NodeCrypto from 'node:crypto';
import { dirname, join } from 'node:path';
import { DnssecKekUnavailable } from './errors.js';
import { resolveStoreOptions, type StoreLocationArgs } from '../store/index.js';

let nodeCrypto: typeof NodeCrypto | undefined;
const crypto = (): typeof NodeCrypto => (nodeCrypto ??= process.getBuiltinModule('node:crypto'));

export const KEK_FILE_NAME = 'dnssec-kek';
const KEK_BYTES = 32;
const SEAL_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A loaded KEK: seals and opens private keys. Never exposes the key bytes. */
export interface Kek {
  /** Fingerprint stored beside each sealed key (SHA-256 of a label and the key, 16 hex digits): not secret. */
  readonly id: string;
  /** Where it came from, for messages (a path, "memory"). */
  readonly where: string;
  seal(plain: Uint8Array, aad: Uint8Array): Uint8Array;
  /** The plaintext; DnssecKekUnavailable when this KEK did not seal it or the data was altered. */
  open(sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

/** What a caller passes in the ServiceContext: the KEK, loaded (or created, when `create`) on demand. */
export interface KekSource {
  readonly where: string;
  /** `create`: make the KEK if there is none yet (only when no key sealed under another KEK is stored). */
  load(o: { create: boolean }): Promise<Kek>;
}

function kekOf(key: Buffer, where: string): Kek {
  if (key.length !== KEK_BYTES) throw new DnssecKekUnavailable(`the DNSSEC key-encryption key in ${where} is ${key.length} octets, not ${KEK_BYTES}`);
  const id = crypto().createHash('sha256').update('DMS DNSSEC KEK id\0').update(key).digest('hex').slice(0, 16);
  return {
    id,
    where,
    seal(plain, aad) {
      const nonce = crypto().randomBytes(NONCE_BYTES);
      const c = crypto().createCipheriv('aes-256-gcm', key, nonce);
      c.setAAD(aad);
      const body = Buffer.concat([c.update(plain), c.final()]);
      return new Uint8Array(Buffer.concat([Buffer.from([SEAL_VERSION]), nonce, body, c.getAuthTag()]));
    },
    open(sealed, aad) {
      const b = Buffer.from(sealed);
      if (b.length < 1 + NONCE_BYTES + TAG_BYTES || b[0] !== SEAL_VERSION)
        throw new DnssecKekUnavailable('a sealed DNSSEC private key is damaged (unknown format)');
      const d = crypto().createDecipheriv('aes-256-gcm', key, b.subarray(1, 1 + NONCE_BYTES));
      d.setAAD(aad);
      d.setAuthTag(b.subarray(b.length - TAG_BYTES));
      try {
        return new Uint8Array(Buffer.concat([d.update(b.subarray(1 + NONCE_BYTES, b.length - TAG_BYTES)), d.final()]));
      } catch {
        throw new DnssecKekUnavailable(`cannot decrypt a DNSSEC private key with the key-encryption key ${id} (${where}): wrong key-encryption key, or the stored key was altered`);
      }
    },
  };
}

/** A KEK held in memory (tests; a caller that got the bytes elsewhere, e.g. from a secrets manager). */
export function memoryKek(key: Uint8Array, where = 'memory'): KekSource {
  const k = kekOf(Buffer.from(key), where);
  return { where, load: async () => k };
}

/** Text of a KEK file: comment lines, then the 32 octets in base64. */
function kekFileText(key: Buffer): string {
  return [
    '# DMS DNSSEC key-encryption key (AES-256). The DNSSEC private keys in the database are sealed with it.',
    '# Keep it apart from database backups, and back it up: without it the stored keys cannot be used.',
    key.toString('base64'),
    '',
  ].join('\n');
}

function parseKekFile(text: string, path: string): Buffer {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length !== 1 || !/^[A-Za-z0-9+/]+={0,2}$/.test(lines[0]))
    throw new DnssecKekUnavailable(`${path} is not a DMS DNSSEC key-encryption key file (expected one base64 line)`);
  return Buffer.from(lines[0], 'base64');
}

/** The KEK in a file (see the header comment for the rules). */
export function kekFile(path: string): KekSource {
  let cached: Kek | undefined;
  return {
    where: path,
    async load({ create }) {
      if (cached) return cached;
      // node:fs only here, on first use (the zone_tool bundle cannot load a dynamic import()).
      const fs = process.getBuiltinModule('node:fs/promises');
      let text: string | undefined;
      try {
        const st = await fs.stat(path);
        if (process.platform !== 'win32' && (st.mode & 0o077) !== 0)
          throw new DnssecKekUnavailable(
            `the DNSSEC key-encryption key file ${path} is accessible to group or others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it`,
          );
        text = await fs.readFile(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          if (e instanceof DnssecKekUnavailable) throw e;
          throw new DnssecKekUnavailable(`cannot read the DNSSEC key-encryption key file ${path}: ${(e as Error).message}`);
        }
      }
      if (text === undefined) {
        if (!create)
          throw new DnssecKekUnavailable(
            `the DNSSEC key-encryption key file ${path} does not exist: the stored DNSSEC keys cannot be used without it (restore it, or name it with --dnssec-kek / DMS_DNSSEC_KEK)`,
          );
        await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
        const key = crypto().randomBytes(KEK_BYTES);
        try {
          const fh = await fs.open(path, 'wx', 0o600);
          try {
            await fh.writeFile(kekFileText(key));
            await fh.sync();
          } finally {
            await fh.close();
          }
          cached = kekOf(key, path);
          return cached;
        } catch (e) {
          // Another process created it first: use theirs.
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
            throw new DnssecKekUnavailable(`cannot create the DNSSEC key-encryption key file ${path}: ${(e as Error).message}`);
          text = await fs.readFile(path, 'utf8');
        }
      }
      cached = kekOf(parseKekFile(text, path), path);
      return cached;
    },
  };
}

/**
 * Where the KEK file is: `--dnssec-kek`, else DMS_DNSSEC_KEK, else `dnssec_kek` in the --config file, else
 * `dnssec-kek` in the data directory (the same precedence as the store's location).
 */
export function kekLocation(args: StoreLocationArgs, env: NodeJS.ProcessEnv = process.env): string {
  const o = resolveStoreOptions(args, env);
  return o.dnssecKek ?? join(o.dataDir, KEK_FILE_NAME);
}
