/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Mirrors' last synchronisation (upstream mirrors, issue 13), on the overview.
// Not wired yet: this server has no mirror service. Wiring: loadMirrorSync lists the mirrors through
// it (GET /api/v1/mirrors's service) with each one's last sync time and outcome.
import type { AppContext } from '../../context.ts';
import { Empty, NotConfigured, TableRegion, Time } from '../components/ui.tsx';
import { notConfigured, type SectionData } from './section.ts';

export interface MirrorSync {
  name: string;
  baseurl: string;
  lastSyncAt: Date | null;
  outcome: string;
}

export async function loadMirrorSync(_ctx: AppContext): Promise<SectionData<MirrorSync[]>> {
  return notConfigured;
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
