// Public surface of the in-memory zone and lookup.
export { keyIsBelowOrAt, keyParent, wireKey } from './key.js';
export { answer, lookupName, type Final, type LookupOptions, type Outcome, type Step } from './lookup.js';
export { buildSections, type SectionOptions, type Sections } from './sections.js';
export { ZoneTable } from './table.js';
export { patchZone, patchZoneRecords, type OwnerRecords, type RecordDelta, type ZonePatch } from './delta.js';
export { compileZone, nameFromWire, RRsets, ZoneBuilder, ZoneNode, soaMinimum, ZoneError, type RRset, type Zone } from './zone.js';
export { addZoneSnapshot, encodeZoneSnapshot, SnapshotEncoder, SnapshotError, zoneNodeArray, zoneNsec3 } from './snapshot.js';
