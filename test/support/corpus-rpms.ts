// The corpus RPMs by what rpm itself made of them (corpus/RPMS.tsv): the ones rpm reads, the damaged ones.
import { corpusAvailable, corpusPath, readCorpusTsv } from './corpus.ts';

export interface CorpusRpm {
  path: string;
  kind: string;
  sha256: string;
  /** rpm -qp's answer: "name epoch version release arch sourcerpm compressor", or "" when rpm refused. */
  rpmQf: string;
  rpmReads: boolean;
  damaged: boolean;
  unsignable: boolean;
}

/**
 * Corpus files rpmgate must refuse as damaged: those rpm refuses because their signature is not an
 * OpenPGP packet at all, and one whose payload is cut short (rpm -qp reads only its header).
 * The ECDSA-signed rpm-rs package, which rpm 4.18 refuses only for want of ECDSA support, is valid:
 * rpmgate replaces its signature with its own on entry.
 */
export const damagedCorpusRpms = new Set(['rpmlint/binary/hello-2.0-1.x86_64-signed.rpm', 'rpm/RPMS/hello-2.0-1.x86_64-corrupted.rpm']);

/**
 * Of those, the files whose headers the reader refuses, as rpm -qp does ("Header RSA signature: BAD
 * (package tag 268: invalid OpenPGP signature)"); tests of what the reader reads leave them out.
 */
export const unreadableCorpusRpms = new Set(['rpmlint/binary/hello-2.0-1.x86_64-signed.rpm']);

/**
 * Valid RPMs rpmgate refuses on entry because it cannot sign them: an RPM v3 package has no immutable
 * header region, so no header signature can cover it (rpmsign refuses it too), and an unsigned package
 * in a gpgcheck=1 repository would only fail on the hosts.
 */
export const unsignableCorpusRpms = new Set(['rpm/RPMS/hello-1.0-1.x86_64.rpm-v3']);

export function corpusRpms(): CorpusRpm[] {
  if (!corpusAvailable) return [];
  return readCorpusTsv('RPMS.tsv').map((row) => ({
    path: corpusPath(row.path!),
    kind: row.kind!,
    sha256: row.sha256!,
    rpmQf: row.rpm_qf || row.rpm_qf_nosig || '',
    rpmReads: row.rpm_rc === '0',
    damaged: damagedCorpusRpms.has(row.path!),
    unsignable: unsignableCorpusRpms.has(row.path!),
  }));
}

/** NEVRA as rpmgate writes it, from rpm's own --qf answer. */
export function nevraFromQf(qf: string, kind: string): string {
  const [name, epoch, version, release, arch] = qf.trim().split(' ');
  const shownEpoch = epoch && epoch !== '(none)' && epoch !== '0' ? `${epoch}:` : '';
  return `${name}-${shownEpoch}${version}-${release}.${kind === 'srpm' ? 'src' : arch}`;
}
