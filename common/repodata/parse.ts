// Reading repodata back: a streaming (sax) parser of primary.xml, filelists.xml and other.xml, gzip or
// plain, that yields one normalized record per <package>, so that documents written by different tools
// (createrepo_c versions, rpmgate) compare field by field whatever their order: dependency entries and
// files are sorted, every attribute and text is kept, unknown elements are collected in `extra`.
// repomd.xml is small and is read with xml2js.
import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import sax from 'sax';
import { parseStringPromise } from 'xml2js';
import type { RepodataKind } from './document.ts';
import { primaryDependencyKinds, type PrimaryDependencyKind } from './primary.ts';

export type Attrs = Record<string, string>;

/** An `<rpm:entry>` with all its attributes (name, flags, epoch, ver, rel, pre, ...). */
export interface DependencyEntry {
  name: string;
  [attribute: string]: string;
}

/** A `<file>`: its text as `path`, `type` "file" when the attribute is absent, any other attribute kept. */
export interface FileEntry {
  path: string;
  type: string;
  [attribute: string]: string;
}

/** An element the normalizer does not know, or attributes on an element that should have none. */
export interface ExtraElement {
  /** Slash-separated element names below <package>, e.g. "format/rpm:foo". */
  path: string;
  attrs: Attrs;
  text: string;
}

export interface PrimaryEntry {
  pkgid: string;
  /** Attributes of <package> (type="rpm"). */
  attrs: Attrs;
  name: string;
  arch: string;
  version: Attrs;
  checksum: { attrs: Attrs; value: string };
  summary: string;
  description: string;
  packager: string;
  url: string;
  time: Attrs;
  size: Attrs;
  location: Attrs;
  format: {
    license: string;
    vendor: string;
    group: string;
    buildhost: string;
    sourcerpm: string;
    headerRange: Attrs;
    files: FileEntry[];
  } & Record<PrimaryDependencyKind, DependencyEntry[]>;
  extra: ExtraElement[];
}

export interface FilelistsEntry {
  pkgid: string;
  /** Attributes of <package> (pkgid, name, arch). */
  attrs: Attrs;
  version: Attrs;
  files: FileEntry[];
  extra: ExtraElement[];
}

export interface ChangelogRecord {
  author: string;
  date: string;
  text: string;
  [attribute: string]: string;
}

export interface OtherEntry {
  pkgid: string;
  attrs: Attrs;
  version: Attrs;
  /** In document order (createrepo_c writes them oldest first). */
  changelogs: ChangelogRecord[];
  extra: ExtraElement[];
}

export interface RepodataEntryMap {
  primary: PrimaryEntry;
  filelists: FilelistsEntry;
  other: OtherEntry;
}

export interface RepodataDocument<K extends RepodataKind> {
  /** The root's packages="N", or null when absent. */
  packageCount: number | null;
  entries: Map<string, RepodataEntryMap[K]>;
}

/** A file path, the document bytes (gzip or plain), or a stream / async iterable of them. */
export type RepodataSource = string | Uint8Array | AsyncIterable<Uint8Array | string>;

const rootElement: Record<RepodataKind, string> = {
  primary: 'metadata',
  filelists: 'filelists',
  other: 'otherdata',
};

const INFLATE_CHUNK = 256 * 1024;

interface XmlNode {
  name: string;
  attrs: Attrs;
  text: string;
  children: XmlNode[];
}

/** Normalized entries of a primary/filelists/other document, one per <package>, as they stream in. */
export async function* iterateRepodata<K extends RepodataKind>(
  kind: K,
  source: RepodataSource,
  onRoot?: (attrs: Attrs) => void,
): AsyncGenerator<RepodataEntryMap[K]> {
  const ready: RepodataEntryMap[K][] = [];
  const stack: XmlNode[] = [];
  let failure: Error | null = null;
  let sawRoot = false;

  const parser = sax.parser(true, { trim: false, normalize: false, xmlns: false, position: true });
  parser.onerror = (error) => {
    failure ??= error;
  };
  parser.onopentag = (tag) => {
    const attrs = { ...(tag.attributes as Attrs) };
    if (!sawRoot) {
      sawRoot = true;
      if (tag.name !== rootElement[kind]) {
        failure ??= new Error(`expected <${rootElement[kind]}> as the root of ${kind} metadata, found <${tag.name}>`);
      }
      onRoot?.(attrs);
      return;
    }
    // Depth 0 below the root: only <package> is a record; anything else is skipped with its subtree.
    const node: XmlNode = { name: tag.name, attrs, text: '', children: [] };
    const parent = stack.at(-1);
    if (parent) parent.children.push(node);
    stack.push(node);
  };
  parser.ontext = (t) => {
    const node = stack.at(-1);
    if (node) node.text += t;
  };
  parser.oncdata = parser.ontext;
  parser.onclosetag = () => {
    const node = stack.pop();
    if (node && stack.length === 0 && node.name === 'package') {
      try {
        ready.push(normalizers[kind](node) as RepodataEntryMap[K]);
      } catch (error) {
        failure ??= error as Error;
      }
    }
  };

  const decoder = new StringDecoder('utf8');
  for await (const chunk of decompressed(toChunks(source))) {
    parser.write(decoder.write(chunk));
    if (failure) throw failure;
    yield* ready.splice(0);
  }
  parser.write(decoder.end());
  parser.close();
  if (failure) throw failure;
  if (!sawRoot) throw new Error(`empty ${kind} metadata document`);
  yield* ready.splice(0);
}

/** A whole document as a map pkgid → entry; a pkgid listed twice is an error (use iterateRepodata to see both). */
export async function readRepodata<K extends RepodataKind>(kind: K, source: RepodataSource): Promise<RepodataDocument<K>> {
  let packageCount: number | null = null;
  const entries = new Map<string, RepodataEntryMap[K]>();
  const onRoot = (attrs: Attrs) => {
    if (attrs.packages !== undefined) packageCount = Number(attrs.packages);
  };
  for await (const entry of iterateRepodata(kind, source, onRoot)) {
    if (entries.has(entry.pkgid)) throw new Error(`${kind} metadata lists pkgid ${entry.pkgid} twice`);
    entries.set(entry.pkgid, entry);
  }
  return { packageCount, entries };
}

async function* toChunks(source: RepodataSource): AsyncGenerator<Buffer> {
  if (typeof source === 'string') {
    yield* toChunks(createReadStream(source, { highWaterMark: INFLATE_CHUNK }));
  } else if (source instanceof Uint8Array) {
    yield Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  } else {
    for await (const chunk of source) {
      if (typeof chunk === 'string') yield Buffer.from(chunk);
      else yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  }
}

/** The bytes as they are, or inflated when they start with the gzip magic (multi-member gzip included). */
async function* decompressed(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const first = await chunks.next();
  if (first.done) return;
  const head = first.value;
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    yield* chunks;
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK });
    pipeline(Readable.from(all()), gunzip, () => {});
    yield* gunzip;
  } else {
    yield* all();
  }
}

// ---------------------------------------------------------------------------------------------
// Normalization

class Collector {
  readonly extra: ExtraElement[] = [];

  /** The text of a leaf element; attributes on it (there should be none) are kept in extra. */
  text(node: XmlNode | undefined, path: string): string {
    if (!node) return '';
    if (Object.keys(node.attrs).length > 0 || node.children.length > 0) this.unknown(node, path);
    return node.text;
  }

  /** The attributes of an element that carries no text; stray text or children go to extra. */
  attrs(node: XmlNode | undefined, path: string): Attrs {
    if (!node) return {};
    if (node.children.length > 0 || node.text.trim() !== '') {
      this.extra.push({ path, attrs: {}, text: node.text.trim() });
      for (const child of node.children) this.unknown(child, `${path}/${child.name}`);
    }
    return { ...node.attrs };
  }

  unknown(node: XmlNode, path: string): void {
    this.extra.push({ path, attrs: { ...node.attrs }, text: node.children.length > 0 ? node.text.trim() : node.text });
    for (const child of node.children) this.unknown(child, `${path}/${child.name}`);
  }
}

function byName(node: XmlNode): Map<string, XmlNode[]> {
  const map = new Map<string, XmlNode[]>();
  for (const child of node.children) {
    const list = map.get(child.name);
    if (list) list.push(child);
    else map.set(child.name, [child]);
  }
  return map;
}

/** Take the single child called `name` (a second one goes to extra). */
function takeOne(children: Map<string, XmlNode[]>, name: string, collector: Collector, path: string): XmlNode | undefined {
  const list = children.get(name);
  children.delete(name);
  if (!list) return undefined;
  for (const dup of list.slice(1)) collector.unknown(dup, `${path}${name}`);
  return list[0];
}

function leftovers(children: Map<string, XmlNode[]>, collector: Collector, path: string): void {
  for (const [name, list] of children) for (const node of list) collector.unknown(node, `${path}${name}`);
}

function sortKey(record: Record<string, string>, first: string): string {
  const rest = Object.keys(record)
    .filter((key) => key !== first)
    .sort()
    .map((key) => `${key}=${record[key]}`);
  return `${record[first] ?? ''}\u0000${rest.join('\u0000')}`;
}

function sortRecords<T extends Record<string, string>>(records: T[], first: string): T[] {
  const keyed = records.map((record) => ({ key: sortKey(record, first), record }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map(({ record }) => record);
}

function fileEntries(nodes: XmlNode[] | undefined, collector: Collector, path: string): FileEntry[] {
  const files: FileEntry[] = [];
  for (const node of nodes ?? []) {
    if (node.children.length > 0) collector.unknown(node, path);
    files.push({ ...node.attrs, path: node.text, type: node.attrs.type ?? 'file' });
  }
  return sortRecords(files, 'path');
}

function dependencyEntries(node: XmlNode | undefined, collector: Collector, path: string): DependencyEntry[] {
  if (!node) return [];
  const entries: DependencyEntry[] = [];
  for (const child of node.children) {
    if (child.name !== 'rpm:entry') {
      collector.unknown(child, `${path}/${child.name}`);
      continue;
    }
    entries.push({ ...child.attrs, name: child.attrs.name ?? '' });
  }
  if (Object.keys(node.attrs).length > 0) collector.extra.push({ path, attrs: { ...node.attrs }, text: '' });
  return sortRecords(entries, 'name');
}

function requireAttr(node: XmlNode, name: string, what: string): string {
  const value = node.attrs[name];
  if (value === undefined) throw new Error(`${what} <package> without ${name}`);
  return value;
}

function normalizePrimary(pkg: XmlNode): PrimaryEntry {
  const c = new Collector();
  const children = byName(pkg);
  const checksum = takeOne(children, 'checksum', c, '');
  const formatNode = takeOne(children, 'format', c, '');
  const entry = {
    attrs: { ...pkg.attrs },
    name: c.text(takeOne(children, 'name', c, ''), 'name'),
    arch: c.text(takeOne(children, 'arch', c, ''), 'arch'),
    version: c.attrs(takeOne(children, 'version', c, ''), 'version'),
    checksum: { attrs: { ...(checksum?.attrs ?? {}) }, value: checksum?.text ?? '' },
    summary: c.text(takeOne(children, 'summary', c, ''), 'summary'),
    description: c.text(takeOne(children, 'description', c, ''), 'description'),
    packager: c.text(takeOne(children, 'packager', c, ''), 'packager'),
    url: c.text(takeOne(children, 'url', c, ''), 'url'),
    time: c.attrs(takeOne(children, 'time', c, ''), 'time'),
    size: c.attrs(takeOne(children, 'size', c, ''), 'size'),
    location: c.attrs(takeOne(children, 'location', c, ''), 'location'),
  };
  leftovers(children, c, '');

  const format = formatNode ? byName(formatNode) : new Map<string, XmlNode[]>();
  const files = fileEntries(format.get('file'), c, 'format/file');
  format.delete('file');
  const formatEntry = {
    license: c.text(takeOne(format, 'rpm:license', c, 'format/'), 'format/rpm:license'),
    vendor: c.text(takeOne(format, 'rpm:vendor', c, 'format/'), 'format/rpm:vendor'),
    group: c.text(takeOne(format, 'rpm:group', c, 'format/'), 'format/rpm:group'),
    buildhost: c.text(takeOne(format, 'rpm:buildhost', c, 'format/'), 'format/rpm:buildhost'),
    sourcerpm: c.text(takeOne(format, 'rpm:sourcerpm', c, 'format/'), 'format/rpm:sourcerpm'),
    headerRange: c.attrs(takeOne(format, 'rpm:header-range', c, 'format/'), 'format/rpm:header-range'),
    files,
  } as PrimaryEntry['format'];
  for (const kind of primaryDependencyKinds) {
    formatEntry[kind] = dependencyEntries(takeOne(format, `rpm:${kind}`, c, 'format/'), c, `format/rpm:${kind}`);
  }
  leftovers(format, c, 'format/');

  const pkgid = entry.checksum.value;
  if (pkgid === '') throw new Error(`primary <package> ${entry.name} without a checksum`);
  return { pkgid, ...entry, format: formatEntry, extra: c.extra };
}

function normalizeFilelists(pkg: XmlNode): FilelistsEntry {
  const c = new Collector();
  const children = byName(pkg);
  const version = c.attrs(takeOne(children, 'version', c, ''), 'version');
  const files = fileEntries(children.get('file'), c, 'file');
  children.delete('file');
  leftovers(children, c, '');
  return { pkgid: requireAttr(pkg, 'pkgid', 'filelists'), attrs: { ...pkg.attrs }, version, files, extra: c.extra };
}

function normalizeOther(pkg: XmlNode): OtherEntry {
  const c = new Collector();
  const children = byName(pkg);
  const version = c.attrs(takeOne(children, 'version', c, ''), 'version');
  const changelogs: ChangelogRecord[] = [];
  for (const node of children.get('changelog') ?? []) {
    if (node.children.length > 0) c.unknown(node, 'changelog');
    changelogs.push({ ...node.attrs, author: node.attrs.author ?? '', date: node.attrs.date ?? '', text: node.text });
  }
  children.delete('changelog');
  leftovers(children, c, '');
  return { pkgid: requireAttr(pkg, 'pkgid', 'other'), attrs: { ...pkg.attrs }, version, changelogs, extra: c.extra };
}

const normalizers: { [K in RepodataKind]: (pkg: XmlNode) => RepodataEntryMap[K] } = {
  primary: normalizePrimary,
  filelists: normalizeFilelists,
  other: normalizeOther,
};

// ---------------------------------------------------------------------------------------------
// repomd.xml

export interface ParsedRepomdRecord {
  type: string;
  checksum: string;
  checksumType: string;
  openChecksum?: string;
  openChecksumType?: string;
  href: string;
  timestamp?: number;
  size?: number;
  openSize?: number;
}

export interface ParsedRepomd {
  revision: string;
  records: ParsedRepomdRecord[];
}

interface XmlJsText {
  _?: string;
  $?: Attrs;
}

function xmlJsText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') return (value as XmlJsText)._ ?? '';
  return undefined;
}

function xmlJsNumber(value: unknown): number | undefined {
  const text = xmlJsText(value);
  return text === undefined ? undefined : Number(text.trim());
}

/** repomd.xml → revision and records (type, checksums, location href, timestamp, sizes). */
export async function parseRepomd(xml: string | Uint8Array): Promise<ParsedRepomd> {
  const source = typeof xml === 'string' ? xml : Buffer.from(xml).toString('utf8');
  const doc = (await parseStringPromise(source, { explicitArray: false, explicitRoot: true })) as {
    repomd?: { revision?: unknown; data?: unknown };
  };
  if (!doc.repomd || typeof doc.repomd !== 'object') throw new Error('not a repomd.xml document');
  const data = doc.repomd.data === undefined ? [] : Array.isArray(doc.repomd.data) ? doc.repomd.data : [doc.repomd.data];
  const records = (data as Record<string, unknown>[]).map((item): ParsedRepomdRecord => {
    const attrs = (item.$ ?? {}) as Attrs;
    const checksum = item.checksum as XmlJsText | string | undefined;
    const openChecksum = item['open-checksum'] as XmlJsText | string | undefined;
    const location = (item.location as XmlJsText | undefined)?.$ ?? {};
    const record: ParsedRepomdRecord = {
      type: attrs.type ?? '',
      checksum: xmlJsText(checksum) ?? '',
      checksumType: (typeof checksum === 'object' ? checksum.$?.type : undefined) ?? '',
      href: location.href ?? '',
    };
    if (openChecksum !== undefined) {
      record.openChecksum = xmlJsText(openChecksum) ?? '';
      record.openChecksumType = (typeof openChecksum === 'object' ? openChecksum.$?.type : undefined) ?? '';
    }
    const timestamp = xmlJsNumber(item.timestamp);
    if (timestamp !== undefined) record.timestamp = timestamp;
    const size = xmlJsNumber(item.size);
    if (size !== undefined) record.size = size;
    const openSize = xmlJsNumber(item['open-size']);
    if (openSize !== undefined) record.openSize = openSize;
    return record;
  });
  return { revision: (xmlJsText(doc.repomd.revision) ?? '').trim(), records };
}
