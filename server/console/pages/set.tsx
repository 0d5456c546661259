/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// A set's page: what it is, the next promotion step (offered only to the roles that may take it; the
// others see who may), its .repo lines, its members with their level and source tie (and entry-check
// findings), its promotion history, the difference from the product's previous version, and the hosts
// assigned to it with their conformance.
import { levelFromRank, type Level } from '../../../common/roles.ts';
import type { AppContext } from '../../context.ts';
import type { HostSummaryWithDrift } from '../../db/hosts.ts';
import { listPendingAdoptions, type PendingAdoptionRow } from '../../db/set-pending-adoptions.ts';
import type { SetMemberDetailRow } from '../../db/set-listings.ts';
import { promotionChoices, type PromotionChoice } from '../../services/promotion-choices.ts';
import { renderRepoFileFor, repoFilePath } from '../../services/repo-file.ts';
import { diffWithPreviousVersion, getSetPage, setHostsPage, type PreviousVersionDiff } from '../../services/set-listings.ts';
import { Layout } from '../components/layout.tsx';
import { Empty, Flash, LevelBadge, Pagination, StatusBadge, TableRegion, Time, componentHref, hostHref, setHref } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { offsetOf, paged } from '../paging.ts';
import { field, readQuery } from '../params.ts';
import { FindingsCell, loadEntryFindings, type EntryFinding } from '../sections/entry-findings.tsx';

const memberPageSize = 100;
const hostPageSize = 50;
/** Lines of each kind of difference shown; the rest is counted. */
const diffLines = 100;

export const setQuery = {
  members: field.page(),
  hosts: field.page(),
  drifting: field.flag(),
  promoted: field.oneOf(['qa_ready', 'pre_release', 'release', 'obsolete'] as const),
};

export interface SetPageOptions {
  /** The outcome of a promotion just tried on this page. */
  flash?: { kind: 'ok' | 'error'; text: string };
  /** The base URL .repo files name (RPMGATE_BASE_URL, else the request's origin). */
  base: string;
}

export async function setPage(ctx: AppContext, page: PageContext, name: string, version: string, options: SetPageOptions) {
  const query = readQuery(page.url, setQuery);
  const detail = await getSetPage(ctx.sql, name, version, { limit: memberPageSize, offset: offsetOf(query.members, memberPageSize) });
  const { set } = detail;
  const [previous, hosts, findings, pending] = await Promise.all([
    diffWithPreviousVersion(ctx.sql, set),
    setHostsPage(ctx.sql, set.id, { driftingOnly: query.drifting, limit: hostPageSize, offset: offsetOf(query.hosts, hostPageSize) }),
    loadEntryFindings(ctx, detail.members),
    listPendingAdoptions(ctx.sql, set.id),
  ]);
  const flash = options.flash ?? (query.promoted ? { kind: 'ok' as const, text: `${set.name}/${set.version} is now at ${query.promoted}.` } : null);
  const repoText = renderRepoFileFor({ kind: 'set', name: set.name, version: set.version }, { base: options.base, title: `set ${set.name}/${set.version}`, needsAuth: ctx.config.repoAuth });
  const channelLevel: Level = set.level === 'obsolete' ? 'release' : set.level;
  return (
    <Layout page={page} title={`${set.name}/${set.version}`}>
      {flash ? <Flash kind={flash.kind}>{flash.text}</Flash> : null}
      <dl class="facts">
        <dt>Level</dt>
        <dd id="set-level">
          <LevelBadge level={set.level} />
        </dd>
        <dt>Created</dt>
        <dd>
          <Time at={set.created_at} /> by {set.created_by}
        </dd>
        <dt>Packages</dt>
        <dd>{detail.memberCount.toLocaleString('en')}</dd>
        {set.description ? (
          <>
            <dt>Description</dt>
            <dd>{set.description}</dd>
          </>
        ) : null}
      </dl>

      <section aria-labelledby="promote-heading" class="promote">
        <h2 id="promote-heading">Promotion</h2>
        <Promotion choices={promotionChoices(set.level, page.session.principal.role)} csrf={page.session.csrfToken} setName={set.name} setVersion={set.version} />
      </section>

      <section aria-labelledby="repo-heading">
        <h2 id="repo-heading">Repository</h2>
        <p>
          Pin a host to exactly this set (<a href={repoFilePath({ kind: 'set', name: set.name, version: set.version })}>.repo file</a>):
        </p>
        <pre class="repo" data-copy="the curl command" tabindex={0}>
          {`curl -o /etc/yum.repos.d/${set.name}.repo ${options.base}${repoFilePath({ kind: 'set', name: set.name, version: set.version })}`}
        </pre>
        <pre class="repo" data-copy="the .repo lines" tabindex={0} aria-label=".repo lines">
          {repoText}
        </pre>
        <p>
          Or follow the product's newest set at {channelLevel} or above:{' '}
          <code>{`${options.base}${repoFilePath({ kind: 'channel', name: set.name, level: channelLevel })}`}</code>
        </p>
      </section>

      <section aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        <Members rows={detail.members} findings={findings} />
        <Pagination paged={paged(detail.members, detail.memberCount, query.members, memberPageSize)} url={page.url} param="members" label="Pages of members" />
      </section>

      {pending.length > 0 ? (
        <section aria-labelledby="pending-heading">
          <h2 id="pending-heading">Upstream members not adopted yet</h2>
          <PendingMembers rows={pending} />
        </section>
      ) : null}

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">Promotion history</h2>
        {detail.history.length === 0 ? (
          <Empty>Created at integ; never promoted.</Empty>
        ) : (
          <ol>
            {detail.history.map((step) => (
              <li>
                <LevelBadge level={step.from_level as Level} /> → <LevelBadge level={step.to_level as Level} /> by {step.promoted_by}, <Time at={step.promoted_at} />
                {step.comment ? <>: “{step.comment}”</> : null}
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="diff-heading">
        <h2 id="diff-heading">Changes since the previous version</h2>
        <Diff previous={previous} name={set.name} />
      </section>

      <section aria-labelledby="hosts-heading">
        <h2 id="hosts-heading">Hosts on this set</h2>
        <p>
          {hosts.counts.conforming.toLocaleString('en')} conforming, {hosts.counts.drifting.toLocaleString('en')} drifting.{' '}
          {query.drifting ? (
            <a href={setHref(set.name, set.version)}>Show every host</a>
          ) : hosts.counts.drifting > 0 ? (
            <a href={`${setHref(set.name, set.version)}?drifting=true`}>Show drifting hosts only</a>
          ) : null}
        </p>
        <SetHosts hosts={hosts.hosts} />
        <Pagination paged={paged(hosts.hosts, hosts.total, query.hosts, hostPageSize)} url={page.url} param="hosts" label="Pages of hosts" />
      </section>
    </Layout>
  );
}

function Promotion(props: { choices: PromotionChoice[]; csrf: string; setName: string; setVersion: string }) {
  if (props.choices.length === 0) return <p>This set is obsolete, which is final.</p>;
  const action = `${setHref(props.setName, props.setVersion)}/promote`;
  return (
    <>
      {props.choices.map((choice) => {
        const label = choice.target === 'obsolete' ? 'Mark obsolete' : `Promote to ${choice.target}`;
        const reasonId = `reason-${choice.target}`;
        const commentId = `comment-${choice.target}`;
        return (
          <form
            method="post"
            action={action}
            data-confirm={choice.target === 'obsolete' ? `Mark ${props.setName}/${props.setVersion} obsolete? This is final.` : undefined}
          >
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="level" value={choice.target} />
            {choice.allowed ? (
              <label for={commentId}>
                Comment (optional)
                <input type="text" id={commentId} name="comment" maxlength={2000} />
              </label>
            ) : null}
            <button type="submit" class={choice.target === 'obsolete' ? 'danger' : undefined} disabled={!choice.allowed} aria-describedby={choice.allowed ? undefined : reasonId}>
              {label}
            </button>
            {choice.reason ? (
              <p class="reason" id={reasonId}>
                {choice.reason}
              </p>
            ) : null}
          </form>
        );
      })}
    </>
  );
}

function sourceTie(member: SetMemberDetailRow) {
  if (member.is_source) {
    return member.binaries_in_set === 0 ? <span class="muted">no binary of this set</span> : <>source of {member.binaries_in_set} binar{member.binaries_in_set === 1 ? 'y' : 'ies'}</>;
  }
  if (!member.sourcerpm) return <span class="muted">none</span>;
  if (!member.source_nevra) return <span class="muted">{member.sourcerpm} (not stored)</span>;
  return (
    <>
      <span class="mono">{member.source_nevra}</span>
      {member.source_in_set ? '' : ' (not in the set)'}
    </>
  );
}

function Members(props: { rows: SetMemberDetailRow[]; findings: Map<number, EntryFinding[]> }) {
  if (props.rows.length === 0) return <Empty>No member on this page.</Empty>;
  return (
    <TableRegion label="Members">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Version</th>
            <th scope="col">Arch</th>
            <th scope="col">Level reached</th>
            <th scope="col">Source</th>
            <th scope="col">Entry-check findings</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((member) => (
            <tr>
              <td>
                <a href={componentHref(member.name)}>{member.name}</a>
              </td>
              <td class="mono">{`${member.epoch ? `${member.epoch}:` : ''}${member.version}-${member.release}`}</td>
              <td>{member.arch}</td>
              <td>
                <LevelBadge level={levelFromRank(member.level_rank)} />
              </td>
              <td>{sourceTie(member)}</td>
              <td>
                <FindingsCell findings={props.findings.get(member.id)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

/** Members named from a mirror and still being fetched (or refused): not served, and the set stays at integ. */
function PendingMembers(props: { rows: PendingAdoptionRow[] }) {
  const failed = props.rows.some((row) => row.state === 'failed');
  return (
    <>
      <p>
        {failed
          ? 'Some upstream members were refused: they are never served, and this set cannot be promoted. Create a new version without them.'
          : 'These are being fetched from their mirror, checked and signed; the repository serves them as each arrives, and the set can be promoted once all are in.'}
      </p>
      <TableRegion label="Upstream members not adopted yet">
        <table>
          <thead>
            <tr>
              <th scope="col">Package</th>
              <th scope="col">Mirror</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => (
              <tr>
                <td class="mono">{row.nevra}</td>
                <td>{row.mirror_name}</td>
                <td>{row.state === 'failed' ? 'refused' : 'pending'}</td>
                <td>{row.attempts}</td>
                <td>{row.last_error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}

function Diff(props: { previous: PreviousVersionDiff | null; name: string }) {
  if (!props.previous) return <Empty>This is the first version of {props.name}.</Empty>;
  const { previous, diff } = props.previous;
  const upgraded = diff.changed.filter((c) => c.direction === 'upgrade');
  const downgraded = diff.changed.filter((c) => c.direction === 'downgrade');
  const more = (count: number) => (count > diffLines ? <li class="muted">and {(count - diffLines).toLocaleString('en')} more</li> : null);
  return (
    <>
      <p>
        Against <a href={setHref(props.name, previous.version)}>{props.name}/{previous.version}</a> (<LevelBadge level={previous.level} />):{' '}
        {diff.added.length} added, {diff.removed.length} removed, {upgraded.length} upgraded, {downgraded.length} downgraded.
      </p>
      <div class="grid-2">
        {[
          { title: 'Added', items: diff.added.map((nevra) => <span class="mono">{nevra}</span>) },
          { title: 'Removed', items: diff.removed.map((nevra) => <span class="mono">{nevra}</span>) },
          { title: 'Upgraded', items: upgraded.map((c) => <><span class="mono">{c.name}.{c.arch}</span> {c.from} → {c.to}</>) },
          { title: 'Downgraded', items: downgraded.map((c) => <><span class="mono">{c.name}.{c.arch}</span> {c.from} → {c.to}</>) },
        ]
          .filter((group) => group.items.length > 0)
          .map((group) => (
            <div>
              <h3>{group.title}</h3>
              <ul>
                {group.items.slice(0, diffLines).map((item) => (
                  <li>{item}</li>
                ))}
                {more(group.items.length)}
              </ul>
            </div>
          ))}
      </div>
    </>
  );
}

function SetHosts(props: { hosts: HostSummaryWithDrift[] }) {
  if (props.hosts.length === 0) return <Empty>No host reports this set.</Empty>;
  return (
    <TableRegion label="Hosts on this set">
      <table>
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">Conformance</th>
            <th scope="col" class="num">
              Missing
            </th>
            <th scope="col" class="num">
              Older
            </th>
            <th scope="col" class="num">
              Newer
            </th>
            <th scope="col" class="num">
              Other
            </th>
            <th scope="col" class="hide-narrow">
              Last report
            </th>
          </tr>
        </thead>
        <tbody>
          {props.hosts.map((host) => (
            <tr>
              <td>
                <a href={hostHref(host.machine_id)}>{host.hostname}</a>
              </td>
              <td>
                <StatusBadge status={host.conformance_status} />
              </td>
              <td class="num">{host.missing_count}</td>
              <td class="num">{host.older_count}</td>
              <td class="num">{host.newer_count}</td>
              <td class="num">{host.different_count}</td>
              <td class="hide-narrow">
                <Time at={host.last_report_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
