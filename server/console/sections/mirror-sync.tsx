/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Mirrors' last synchronisation (upstream mirrors, issue 13), on the overview: each mirror with its
// last good sync and the outcome of its last attempt (GET /api/v1/mirrors's query).
import type { AppContext } from '../../context.ts';
import { listMirrors } from '../../db/mirrors.ts';
import { Empty, NotConfigured, TableRegion, Time } from '../components/ui.tsx';
import type { SectionData } from './section.ts';

export interface MirrorSync {
  name: string;
  baseurl: string;
  lastSyncAt: Date | null;
  outcome: string;
}

export async function loadMirrorSync(ctx: AppContext): Promise<SectionData<MirrorSync[]>> {
  const mirrors = await listMirrors(ctx.sql);
  return {
    configured: true,
    data: mirrors.map((mirror) => ({
      name: mirror.name,
      baseurl: mirror.baseurl,
      lastSyncAt: mirror.synced_at,
      outcome: mirror.last_error ? `failed: ${mirror.last_error}` : mirror.synced_at ? `${mirror.packages} packages, ${mirror.cached} cached` : 'never synced',
    })),
  };
}

export function MirrorSyncs(props: { data: SectionData<MirrorSync[]> }) {
  if (!props.data.configured) {
    return <NotConfigured what="Mirrors">Upstream mirrors and their last synchronisation will be shown here once mirrors can be added to this server.</NotConfigured>;
  }
  if (props.data.data.length === 0) return <Empty>No mirror is configured.</Empty>;
  return (
    <TableRegion label="Mirrors">
      <table>
        <thead>
          <tr>
            <th scope="col">Mirror</th>
            <th scope="col">Upstream</th>
            <th scope="col">Last sync</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {props.data.data.map((mirror) => (
            <tr>
              <td>{mirror.name}</td>
              <td class="mono">{mirror.baseurl}</td>
              <td>{mirror.lastSyncAt ? <Time at={mirror.lastSyncAt} /> : 'never'}</td>
              <td>{mirror.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
