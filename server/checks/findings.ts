// What an entry check says about a package: a finding with a stable check id (what an exception
// names), a severity (error refuses, warning is recorded), a message, the file path where one applies,
// and, when an exception covers it, the exception that waived it.
export type Severity = 'error' | 'warning';

export interface Finding {
  check: string;
  severity: Severity;
  message: string;
  path?: string;
  /** "exception 12 (granted by alice: legacy layout)": set when an exception covers the finding. */
  waivedBy?: string;
}

/** The verdict on one package: refused when any error is not waived. */
export interface Verdict {
  findings: Finding[];
  refused: boolean;
}

export function verdictOf(findings: Finding[]): Verdict {
  return { findings, refused: findings.some((finding) => finding.severity === 'error' && finding.waivedBy === undefined) };
}

/** One line for the refusal's detail: how many errors, and the first. */
export function refusalSummary(nevra: string, findings: Finding[]): string {
  const errors = findings.filter((finding) => finding.severity === 'error' && finding.waivedBy === undefined);
  const first = errors[0]!;
  const where = first.path ? ` (${first.path})` : '';
  return `${nevra} refused by entry checks: ${errors.length} error(s); ${first.check}: ${first.message}${where}`;
}
