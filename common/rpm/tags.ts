// Tag numbers, index entry types and the few flag bits the reader needs, named as in rpm's
// include/rpm/rpmtag.h (rpm 4.18 plus the rpm 6 additions), rpmfiles.h and rpmds.h.
import { rpm418Tags } from './tag-table.ts';

/** Index entry data types (rpmTagType_e). RPM_MIN_TYPE is 1: NULL entries are refused by rpm. */
export const RPM_NULL_TYPE = 0;
export const RPM_CHAR_TYPE = 1;
export const RPM_INT8_TYPE = 2;
export const RPM_INT16_TYPE = 3;
export const RPM_INT32_TYPE = 4;
export const RPM_INT64_TYPE = 5;
export const RPM_STRING_TYPE = 6;
export const RPM_BIN_TYPE = 7;
export const RPM_STRING_ARRAY_TYPE = 8;
export const RPM_I18NSTRING_TYPE = 9;
export const RPM_MIN_TYPE = 1;
export const RPM_MAX_TYPE = 9;

export const typeNames: Readonly<Record<number, string>> = {
  0: 'NULL',
  1: 'CHAR',
  2: 'INT8',
  3: 'INT16',
  4: 'INT32',
  5: 'INT64',
  6: 'STRING',
  7: 'BIN',
  8: 'STRING_ARRAY',
  9: 'I18NSTRING',
};

/** Element size per type (lib/header.c typeSizes); -1 for NUL-terminated strings. */
export const typeSizes: readonly number[] = [0, 1, 1, 2, 4, 8, -1, 1, -1, -1];

/** Alignment of each type's data in the store (lib/header.c typeAlign). */
export const typeAlign: readonly number[] = [1, 1, 1, 2, 4, 8, 1, 1, 1, 1];

export function isStringType(type: number): boolean {
  return type === RPM_STRING_TYPE || type === RPM_STRING_ARRAY_TYPE || type === RPM_I18NSTRING_TYPE;
}

// Header private tags (rpmtag.h HEADER_*).
export const RPMTAG_HEADERIMAGE = 61;
export const RPMTAG_HEADERSIGNATURES = 62;
export const RPMTAG_HEADERIMMUTABLE = 63;
export const RPMTAG_HEADERREGIONS = 64;
export const RPMTAG_HEADERI18NTABLE = 100;

// Signature header tags (rpmSigTag_e). The 26x/27x ones share numbers with RPMTAG_* header tags.
export const RPMSIGTAG_DSA = 267; // RPMTAG_DSAHEADER: also carries EdDSA/ECDSA header signatures
export const RPMSIGTAG_RSA = 268; // RPMTAG_RSAHEADER
export const RPMSIGTAG_SHA1 = 269; // RPMTAG_SHA1HEADER
export const RPMSIGTAG_LONGSIZE = 270;
export const RPMSIGTAG_LONGARCHIVESIZE = 271;
export const RPMSIGTAG_SHA256 = 273;
export const RPMSIGTAG_FILESIGNATURES = 274;
export const RPMSIGTAG_FILESIGNATURELENGTH = 275;
export const RPMSIGTAG_VERITYSIGNATURES = 276;
export const RPMSIGTAG_VERITYSIGNATUREALGO = 277;
export const RPMSIGTAG_OPENPGP = 278; // rpm 6: base64 OpenPGP signatures, one per string
export const RPMSIGTAG_SHA3_256 = 279; // rpm 6
export const RPMSIGTAG_RESERVED = 999; // rpm 6 reserved space
export const RPMSIGTAG_SIZE = 1000; // header + payload size
export const RPMSIGTAG_PGP = 1002; // header + payload RSA signature (legacy)
export const RPMSIGTAG_MD5 = 1004; // header + payload MD5
export const RPMSIGTAG_GPG = 1005; // header + payload DSA signature (legacy)
export const RPMSIGTAG_PGP5 = 1006;
export const RPMSIGTAG_PAYLOADSIZE = 1007; // uncompressed payload (cpio archive) size
export const RPMSIGTAG_RESERVEDSPACE = 1008;

// Main header tags (rpmTag_e).
export const RPMTAG_NAME = 1000;
export const RPMTAG_VERSION = 1001;
export const RPMTAG_RELEASE = 1002;
export const RPMTAG_EPOCH = 1003;
export const RPMTAG_SUMMARY = 1004;
export const RPMTAG_DESCRIPTION = 1005;
export const RPMTAG_BUILDTIME = 1006;
export const RPMTAG_BUILDHOST = 1007;
export const RPMTAG_SIZE = 1009;
export const RPMTAG_VENDOR = 1011;
export const RPMTAG_LICENSE = 1014;
export const RPMTAG_PACKAGER = 1015;
export const RPMTAG_GROUP = 1016;
export const RPMTAG_URL = 1020;
export const RPMTAG_ARCH = 1022;
export const RPMTAG_OLDFILENAMES = 1027;
export const RPMTAG_FILEMODES = 1030;
export const RPMTAG_FILEFLAGS = 1037;
export const RPMTAG_SOURCERPM = 1044;
export const RPMTAG_ARCHIVESIZE = 1046;
export const RPMTAG_PROVIDENAME = 1047;
export const RPMTAG_REQUIREFLAGS = 1048;
export const RPMTAG_REQUIRENAME = 1049;
export const RPMTAG_REQUIREVERSION = 1050;
export const RPMTAG_CONFLICTFLAGS = 1053;
export const RPMTAG_CONFLICTNAME = 1054;
export const RPMTAG_CONFLICTVERSION = 1055;
export const RPMTAG_CHANGELOGTIME = 1080;
export const RPMTAG_CHANGELOGNAME = 1081;
export const RPMTAG_CHANGELOGTEXT = 1082;
export const RPMTAG_OBSOLETENAME = 1090;
export const RPMTAG_SOURCEPACKAGE = 1106;
export const RPMTAG_PROVIDEFLAGS = 1112;
export const RPMTAG_PROVIDEVERSION = 1113;
export const RPMTAG_OBSOLETEFLAGS = 1114;
export const RPMTAG_OBSOLETEVERSION = 1115;
export const RPMTAG_DIRINDEXES = 1116;
export const RPMTAG_BASENAMES = 1117;
export const RPMTAG_DIRNAMES = 1118;
export const RPMTAG_PAYLOADFORMAT = 1124;
export const RPMTAG_PAYLOADCOMPRESSOR = 1125;
export const RPMTAG_LONGSIZE = 5009;
export const RPMTAG_RECOMMENDNAME = 5046;
export const RPMTAG_RECOMMENDVERSION = 5047;
export const RPMTAG_RECOMMENDFLAGS = 5048;
export const RPMTAG_SUGGESTNAME = 5049;
export const RPMTAG_SUGGESTVERSION = 5050;
export const RPMTAG_SUGGESTFLAGS = 5051;
export const RPMTAG_SUPPLEMENTNAME = 5052;
export const RPMTAG_SUPPLEMENTVERSION = 5053;
export const RPMTAG_SUPPLEMENTFLAGS = 5054;
export const RPMTAG_ENHANCENAME = 5055;
export const RPMTAG_ENHANCEVERSION = 5056;
export const RPMTAG_ENHANCEFLAGS = 5057;
/** RPMTAG_PAYLOADDIGEST before rpm 6, RPMTAG_PAYLOADSHA256 from rpm 6 on: digest of the compressed payload. */
export const RPMTAG_PAYLOADDIGEST = 5092;
/** PGPHASHALGO_* of RPMTAG_PAYLOADDIGEST; absent in v6 packages, where 5092 is always SHA-256. */
export const RPMTAG_PAYLOADDIGESTALGO = 5093;
/** Digest of the uncompressed payload (RPMTAG_PAYLOADSHA256ALT in rpm 6). */
export const RPMTAG_PAYLOADDIGESTALT = 5097;
export const RPMTAG_PAYLOADSIZE = 5112; // rpm 6: compressed payload size
export const RPMTAG_PAYLOADSIZEALT = 5113; // rpm 6: uncompressed payload size
export const RPMTAG_RPMFORMAT = 5114; // rpm 6: 6 for v6 packages
export const RPMTAG_PAYLOADSHA512 = 5121;
export const RPMTAG_PAYLOADSHA512ALT = 5122;
export const RPMTAG_PAYLOADSHA3_256 = 5123;
export const RPMTAG_PAYLOADSHA3_256ALT = 5124;

/** RPMFILE_GHOST (rpmfiles.h): %ghost files are owned but not shipped in the payload. */
export const RPMFILE_GHOST = 1 << 6;
/** RPMSENSE_EQUAL (rpmds.h), used for the retrofitted "Provides: name = evr" of v3 packages. */
export const RPMSENSE_EQUAL = 1 << 3;

/**
 * Tags of rpm 6 that the reader reads. rpm 4.18 does not know them (and so lets them have any type);
 * the reader holds them to rpm 6's types, since it interprets their values.
 */
const rpm6Tags: readonly (readonly [number, string, number])[] = [
  [RPMTAG_PAYLOADSIZE, 'PAYLOADSIZE', RPM_INT64_TYPE],
  [RPMTAG_PAYLOADSIZEALT, 'PAYLOADSIZEALT', RPM_INT64_TYPE],
  [RPMTAG_RPMFORMAT, 'RPMFORMAT', RPM_INT32_TYPE],
  [RPMTAG_PAYLOADSHA512, 'PAYLOADSHA512', RPM_STRING_TYPE],
  [RPMTAG_PAYLOADSHA512ALT, 'PAYLOADSHA512ALT', RPM_STRING_TYPE],
  [RPMTAG_PAYLOADSHA3_256, 'PAYLOADSHA3_256', RPM_STRING_TYPE],
  [RPMTAG_PAYLOADSHA3_256ALT, 'PAYLOADSHA3_256ALT', RPM_STRING_TYPE],
];

/**
 * The type rpm gives each main-header tag it knows (rpm 4.18's tag table, plus the rpm 6 tags the
 * reader reads). Like rpm's hdrchkTagType (lib/header.c), a known tag stored with another type is
 * refused, except that the string types may stand in for one another ("some string tags harmlessly
 * disagree"); tags missing here may have any type (rpm permits unknown tags for forward compatibility).
 */
export const mainTagTypes: ReadonlyMap<number, number> = new Map([...rpm418Tags, ...rpm6Tags].map(([tag, , type]) => [tag, type]));

const tagNames: ReadonlyMap<number, string> = new Map([
  [RPMTAG_HEADERIMAGE, 'HEADERIMAGE'],
  [RPMTAG_HEADERSIGNATURES, 'HEADERSIGNATURES'],
  [RPMTAG_HEADERIMMUTABLE, 'HEADERIMMUTABLE'],
  [RPMTAG_HEADERREGIONS, 'HEADERREGIONS'],
  ...[...rpm418Tags, ...rpm6Tags].map(([tag, name]) => [tag, name] as const),
]);

const sigTagNames: ReadonlyMap<number, string> = new Map([
  [RPMTAG_HEADERSIGNATURES, 'HEADERSIGNATURES'],
  [RPMSIGTAG_DSA, 'DSAHEADER'],
  [RPMSIGTAG_RSA, 'RSAHEADER'],
  [RPMSIGTAG_SHA1, 'SHA1HEADER'],
  [RPMSIGTAG_LONGSIZE, 'LONGSIGSIZE'],
  [RPMSIGTAG_LONGARCHIVESIZE, 'LONGARCHIVESIZE'],
  [RPMSIGTAG_SHA256, 'SHA256HEADER'],
  [RPMSIGTAG_FILESIGNATURES, 'FILESIGNATURES'],
  [RPMSIGTAG_FILESIGNATURELENGTH, 'FILESIGNATURELENGTH'],
  [RPMSIGTAG_VERITYSIGNATURES, 'VERITYSIGNATURES'],
  [RPMSIGTAG_VERITYSIGNATUREALGO, 'VERITYSIGNATUREALGO'],
  [RPMSIGTAG_OPENPGP, 'OPENPGP'],
  [RPMSIGTAG_SHA3_256, 'SHA3_256HEADER'],
  [RPMSIGTAG_RESERVED, 'RESERVED'],
  [RPMSIGTAG_SIZE, 'SIZE'],
  [RPMSIGTAG_PGP, 'PGP'],
  [RPMSIGTAG_MD5, 'MD5'],
  [RPMSIGTAG_GPG, 'GPG'],
  [RPMSIGTAG_PGP5, 'PGP5'],
  [RPMSIGTAG_PAYLOADSIZE, 'PAYLOADSIZE'],
  [RPMSIGTAG_RESERVEDSPACE, 'RESERVEDSPACE'],
]);

/** "NAME (1000)" for messages; the signature header has its own tag space above 999. */
export function describeTag(tag: number, space: 'main' | 'signature' = 'main'): string {
  const name = (space === 'signature' ? sigTagNames : tagNames).get(tag);
  return name ? `${name} (${tag})` : `tag ${tag}`;
}

export function describeType(type: number): string {
  return typeNames[type] ?? `unknown type ${type}`;
}
