// Version comparison exactly as rpm does it: rpmvercmp() for one version or release string
// (rpm rpmio/rpmvercmp.c), and [epoch:]version[-release] parsing and ordering (rpm rpmio/rpmver.c:
// parseEVR, rpmverCmp). Dependency range matching lives in depmatch.ts.
import type { Evr } from './package.ts';

export type Comparison = -1 | 0 | 1;

/**
 * An EVR as rpm's parseEVR splits it. Unlike a package's Evr, the release may be absent
 * (a dependency such as `foo >= 1.2` carries no release).
 */
export interface ParsedEvr {
  /** null when the string has no `E:` prefix. `":1.0"` gives 0, as in rpm. */
  epoch: number | null;
  version: string;
  /** null when there is no `-`; may be "" for a trailing `-` (rpm keeps it). */
  release: string | null;
}

// rpm's rctype.h classifies ASCII only (locale-independent): every byte >= 0x80 is a separator.
// Working on UTF-16 code units therefore gives the same answer as rpm working on UTF-8 bytes:
// a non-ASCII code unit is a separator exactly when its bytes are, segments are pure ASCII (so
// strcmp on them is the same), and the remaining tail is only ever tested for emptiness.
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

const TILDE = 0x7e;
const CARET = 0x5e;

/**
 * Compare two version (or release) strings: 1 when `a` is newer, -1 when `b` is newer, 0 when equal.
 * A port of rpm's rpmvercmp(): segments of ASCII digits or letters separated by anything else,
 * numbers beat letters, leading zeros ignored, `~` sorts before everything (even the end),
 * `^` sorts after the end but before any further segment.
 */
export function rpmvercmp(a: string, b: string): Comparison {
  if (a === b) return 0;
  // `i` and `j` play rpm's `one` and `two`; a position at length is the C string's NUL.
  const aLen = a.length;
  const bLen = b.length;
  let i = 0;
  let j = 0;
  const at = (s: string, k: number): number => (k < s.length ? s.charCodeAt(k) : 0);

  while (i < aLen || j < bLen) {
    while (i < aLen && !isSegmentStart(a.charCodeAt(i))) i++;
    while (j < bLen && !isSegmentStart(b.charCodeAt(j))) j++;

    // The tilde separator sorts before everything else, including the end of the string.
    if (at(a, i) === TILDE || at(b, j) === TILDE) {
      if (at(a, i) !== TILDE) return 1;
      if (at(b, j) !== TILDE) return -1;
      i++;
      j++;
      continue;
    }

    // The caret is like the tilde, except that the end of the string (the base version) sorts lower.
    if (at(a, i) === CARET || at(b, j) === CARET) {
      if (i >= aLen) return -1;
      if (j >= bLen) return 1;
      if (at(a, i) !== CARET) return 1;
      if (at(b, j) !== CARET) return -1;
      i++;
      j++;
      continue;
    }

    if (!(i < aLen && j < bLen)) break;

    // Take one all-digit or all-letter segment from each side, typed by `a`'s segment.
    const isNum = isDigit(a.charCodeAt(i));
    const inSegment = isNum ? isDigit : isAlpha;
    let iEnd = i;
    let jEnd = j;
    while (iEnd < aLen && inSegment(a.charCodeAt(iEnd))) iEnd++;
    while (jEnd < bLen && inSegment(b.charCodeAt(jEnd))) jEnd++;

    // `a` always has a segment here (it starts with a digit or a letter); an empty one on `b`
    // means the types differ, and numbers are newer than letters (rpm bug #50977).
    if (jEnd === j) return isNum ? 1 : -1;

    let segA = a.slice(i, iEnd);
    let segB = b.slice(j, jEnd);
    if (isNum) {
      segA = stripLeadingZeros(segA);
      segB = stripLeadingZeros(segB);
      if (segA.length > segB.length) return 1;
      if (segB.length > segA.length) return -1;
    }
    if (segA !== segB) return segA < segB ? -1 : 1;

    i = iEnd;
    j = jEnd;
  }

  // All segments equal; only separators may have differed.
  if (i >= aLen && j >= bLen) return 0;
  return i >= aLen ? -1 : 1;
}

function isSegmentStart(c: number): boolean {
  return isDigit(c) || isAlpha(c) || c === TILDE || c === CARET;
}

function stripLeadingZeros(digits: string): string {
  let k = 0;
  while (k < digits.length && digits.charCodeAt(k) === 0x30) k++;
  return digits.slice(k);
}

/**
 * Split "[epoch:]version[-release]" as rpm's parseEVR does: the epoch is a run of leading digits
 * followed by `:`, the release is everything after the last `-` that follows those digits.
 * "a:1.0" has no epoch (version "a:1.0"), and ":1.0" has epoch 0.
 */
export function parseEvr(evr: string): ParsedEvr {
  let s = 0;
  while (s < evr.length && isDigit(evr.charCodeAt(s))) s++;
  const dash = evr.lastIndexOf('-');
  const releaseStart = dash >= s ? dash : -1;

  let epoch: number | null = null;
  let versionStart = 0;
  if (evr.charCodeAt(s) === 0x3a /* ':' */) {
    epoch = s === 0 ? 0 : Number(evr.slice(0, s));
    versionStart = s + 1;
  }
  if (releaseStart === -1) {
    return { epoch, version: evr.slice(versionStart), release: null };
  }
  return { epoch, version: evr.slice(versionStart, releaseStart), release: evr.slice(releaseStart + 1) };
}

/** Write an EVR back as rpm stores it in a dependency: epoch only when present, release only when present. */
export function formatEvr(evr: ParsedEvr | Evr): string {
  const epoch = evr.epoch === null ? '' : `${evr.epoch}:`;
  const release = evr.release === null ? '' : `-${evr.release}`;
  return `${epoch}${evr.version}${release}`;
}

/**
 * Order two EVRs as rpm's rpmverCmp does (what `rpm.ver(a) < rpm.ver(b)` and python's labelCompare
 * use): an absent epoch is 0; versions by rpmvercmp; then releases, where an absent release sorts
 * before any present one ("1.0" < "1.0-1"). Accepts strings or already split EVRs.
 */
export function compareEvr(a: string | ParsedEvr | Evr, b: string | ParsedEvr | Evr): Comparison {
  const x = typeof a === 'string' ? parseEvr(a) : a;
  const y = typeof b === 'string' ? parseEvr(b) : b;
  const epochX = x.epoch ?? 0;
  const epochY = y.epoch ?? 0;
  if (epochX !== epochY) return epochX > epochY ? 1 : -1;
  const byVersion = rpmvercmp(x.version, y.version);
  if (byVersion !== 0) return byVersion;
  if (x.release === null || y.release === null) {
    if (x.release === y.release) return 0;
    return x.release === null ? -1 : 1;
  }
  return rpmvercmp(x.release, y.release);
}
