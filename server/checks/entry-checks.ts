// The entry checks of one package: house policies and rpmlint, then the exceptions that waive some of
// the findings. Every path into the store (upload API and CLI, the upstream mirror) calls check().
import type { ParsedRpm } from '../../common/rpm/reader.ts';
import type { Queryable } from '../db/queryable.ts';
import { applyExceptions, liveExceptions } from './exceptions.ts';
import { verdictOf, type Finding, type Verdict } from './findings.ts';
import { runHousePolicies } from './house-policies.ts';
import type { Policy } from './policy.ts';
import type { RpmlintRunner } from './rpmlint.ts';

export class EntryChecks {
  constructor(
    private readonly sql: Queryable,
    readonly policy: Policy,
    private readonly rpmlint: RpmlintRunner,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The verdict on the file at `file`, whose parsed header is `parsed`; `more`: findings found elsewhere (check --all). */
  async check(file: string, parsed: ParsedRpm, more: Finding[] = []): Promise<Verdict> {
    const [lint, exceptions] = await Promise.all([this.rpmlint.check(file, parsed.package), liveExceptions(this.sql, this.now())]);
    const findings = [...runHousePolicies(parsed, this.policy), ...lint, ...more];
    return verdictOf(applyExceptions(findings, exceptions, parsed.package));
  }
}
