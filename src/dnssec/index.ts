// DNSSEC core: keys, RRSIG signing and verification, NSEC/NSEC3 chains, full and incremental zone signing.
// Pure apart from node:crypto (loaded on first use): no files, sockets or database here.

export {
  Algorithm, type AlgorithmInfo, algorithmFromString, algorithmInfo, DnssecError, requireAlgorithm, SUPPORTED_ALGORITHMS,
} from './algorithms.js';
export {
  type BindKeyFiles, type BindPrivateKey, type BindPublicKey, bindKeyBaseName, DigestType, DNSKEY_REVOKE, DNSKEY_SEP,
  DNSKEY_ZONE, DnssecKey, dsRdata, exportBindKey, type GenerateOptions, generateKey, type ImportedKey, type ImportOptions,
  importBindKey, KSK_FLAGS, type KeyTiming, keyFromDnskey, keyFromPkcs8, keyTag, parseBindKeyFile, parseBindPrivateKey,
  privateKeyPem, privateKeyPkcs8, publicKeyField, publicKeyObject, ZSK_FLAGS,
} from './keys.js';
export { NsecChain } from './nsec.js';
export {
  checkNsec3Params, DEFAULT_NSEC3, MAX_NSEC3_ITERATIONS, NSEC3_OPT_OUT, NSEC3_SHA1, Nsec3Chain, type Nsec3Params,
  nsec3Hash, nsec3Label, nsec3ParamRdata,
} from './nsec3.js';
export {
  type RRsetInput, rrsetFromRRs, rrsigLabels, type SignJob, type SignTimes, signBytes, signedData, signRRset,
  rrsigRdataPrefix, signRRsetBytes, type VerifyOptions, type VerifyResult, verifyBytes, verifyRrsig,
} from './sign.js';
export { decodeSignJobs, decodeSignResults, encodeSignJobs, encodeSignResults, SignBatchWriter, signPackedJobs } from './sign-batch.js';
export { SortedSet } from './sorted.js';
export {
  completeSignBatch, completeSignature, type Denial, type PendingSignature, type RecordDelta, resignDelta, type SignBatch, type SignPolicy, SignedZone,
  signZone, type ZoneKey } from './zone.js';
