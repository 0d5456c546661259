/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The overview: sets per level, the latest promotions and who made them, hosts drifting from their set
// (how many and the worst), packages refused on entry lately, pending cleanup, the signing key and its
// rotation, mirrors' last sync.
import type { AppContext } from '../../context.ts';
import { fleetSummary } from '../../services/fleet-listings.ts';
import { latestPromotions, levelOrder, setsPerLevel } from '../../services/set-listings.ts';
import { Layout } from '../components/layout.tsx';
import { Empty, LevelBadge, StatusBadge, TableRegion, Time, hostHref, setHref, setRefHref } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { CleanupNoticeTable, loadCleanupNotices } from '../sections/cleanup-warnings.tsx';
import { MirrorSyncs, loadMirrorSync } from '../sections/mirror-sync.tsx';
import { RefusedUploads, loadRefusedUploads } from '../sections/refused-uploads.tsx';
import { SigningKey } from '../sections/signing-key.tsx';

export async function overviewPage(ctx: AppContext, page: PageContext) {
  const [levels, promotions, fleet, refused, cleanup, mirrors] = await Promise.all([
    setsPerLevel(ctx.sql),
    latestPromotions(ctx.sql, 10),
    fleetSummary(ctx.sql, 10),
    loadRefusedUploads(ctx, 10),
    loadCleanupNotices(ctx, { limit: 5, offset: 0 }),
    loadMirrorSync(ctx),
  ]);
  return (
    <Layout page={page} title="Overview">
      <section aria-labelledby="levels-heading">
        <h2 id="levels-heading">Sets per level</h2>
        <ul class="cards">
          {levelOrder.map((level) => (
            <li class="card">
              <a href={`/ui/sets?level=${level}`}>
                <span class="number">{levels[level].toLocaleString('en')}</span>
                <LevelBadge level={level} />
              </a>
            </li>
          ))}
        </ul>
      </section>

      <div class="grid-2">
        <section aria-labelledby="fleet-heading">
          <h2 id="fleet-heading">Hosts drifting from their set</h2>
          <p>
            <a href="/ui/hosts?drifting=true">
              <strong>{fleet.counts.drifting.toLocaleString('en')}</strong> drifting
            </a>{' '}
            of {fleet.total.toLocaleString('en')} hosts ({fleet.counts.conforming.toLocaleString('en')} conforming,{' '}
            {(fleet.counts.no_set + fleet.counts.unknown_set).toLocaleString('en')} without a known set).
          </p>
          {fleet.mostDrifting.length === 0 ? (
            <Empty>No host drifts from its set.</Empty>
          ) : (
            <TableRegion label="Most drifting hosts">
              <table>
                <caption class="muted">The most drifting hosts</caption>
                <thead>
                  <tr>
                    <th scope="col">Host</th>
                    <th scope="col">Set</th>
                    <th scope="col" class="num">
                      Differences
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {fleet.mostDrifting.map((host) => (
                    <tr>
                      <td>
                        <a href={hostHref(host.machine_id)}>{host.hostname}</a>
                      </td>
                      <td>{host.set_ref ? <a href={setRefHref(host.set_ref)}>{host.set_ref}</a> : '—'}</td>
                      <td class="num">
                        {(host.missing_count + host.older_count + host.newer_count + host.different_count).toLocaleString('en')}{' '}
                        <StatusBadge status={host.conformance_status} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableRegion>
          )}
        </section>

        <section aria-labelledby="promotions-heading">
          <h2 id="promotions-heading">Latest promotions</h2>
          {promotions.length === 0 ? (
            <Empty>No set has been promoted yet.</Empty>
          ) : (
            <TableRegion label="Latest promotions">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Set</th>
                    <th scope="col">To</th>
                    <th scope="col">By</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody>
                  {promotions.map((step) => (
                    <tr>
                      <td>
                        <a href={setHref(step.set_name, step.set_version)}>
                          {step.set_name}/{step.set_version}
                        </a>
                      </td>
                      <td>
                        <LevelBadge level={step.to_level} />
                      </td>
                      <td>{step.promoted_by}</td>
                      <td>
                        <Time at={step.promoted_at} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableRegion>
          )}
        </section>
      </div>

      <div class="grid-2">
        <section aria-labelledby="refused-heading">
          <h2 id="refused-heading">Packages refused on entry lately</h2>
          <RefusedUploads refused={refused} />
        </section>
        <section aria-labelledby="cleanup-heading">
          <h2 id="cleanup-heading">Pending cleanup</h2>
          {cleanup.total > 0 ? (
            <p>
              <a href="/ui/cleanup">
                <strong>{cleanup.total.toLocaleString('en')}</strong> pending warning{cleanup.total === 1 ? '' : 's'}
              </a>
              {cleanup.total > cleanup.notices.length ? `; the first ${cleanup.notices.length}:` : ':'}
            </p>
          ) : null}
          <CleanupNoticeTable notices={cleanup.notices} />
        </section>
      </div>

      <div class="grid-2">
        <section aria-labelledby="key-heading">
          <h2 id="key-heading">Signing key</h2>
          <SigningKey ctx={ctx} />
        </section>
        <section aria-labelledby="mirrors-heading">
          <h2 id="mirrors-heading">Mirrors</h2>
          <MirrorSyncs mirrors={mirrors} />
        </section>
      </div>
    </Layout>
  );
}
