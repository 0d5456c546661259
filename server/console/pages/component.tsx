/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// A component's page: every version of a package name, newest first, with the highest level it
// reached, the sets that hold it, and the hosts running it ("which builds of libfoo are proven, and
// who runs what").
import type { Level } from '../../../common/roles.ts';
import type { AppContext } from '../../context.ts';
import { getComponentPage } from '../../services/component-catalog.ts';
import { Layout } from '../components/layout.tsx';
import { Empty, LevelBadge, TableRegion, hostHref, setHref } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { readQuery } from '../params.ts';

const hostsPerVersion = 5;
const setsPerVersion = 5;

export async function componentPage(ctx: AppContext, page: PageContext, name: string) {
  readQuery(page.url, {});
  const component = await getComponentPage(ctx.sql, name, { hostsPerVersion, setsPerVersion });
  return (
    <Layout page={page} title={`Component ${component.name}`}>
      <p>
        {component.versions.length.toLocaleString('en')} version{component.versions.length === 1 ? '' : 's'};{' '}
        {component.hostCount.toLocaleString('en')} host{component.hostCount === 1 ? '' : 's'} run one of them.{' '}
        <a href={`/api/v1/components/${encodeURIComponent(component.name)}/usage`}>Usage as JSON</a>
      </p>
      {component.versions.length === 0 ? (
        <Empty>No version.</Empty>
      ) : (
        <TableRegion label="Versions">
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Arch</th>
                <th scope="col">Level reached</th>
                <th scope="col">Sets holding it</th>
                <th scope="col">Hosts running it</th>
              </tr>
            </thead>
            <tbody>
              {component.versions.map((version) => (
                <tr>
                  <th scope="row" class="mono">
                    {version.evr}
                  </th>
                  <td>{version.arch}</td>
                  <td>{version.stored ? <LevelBadge level={version.stored.level} /> : <span class="muted">not stored here</span>}</td>
                  <td>
                    {version.stored && version.stored.setCount > 0 ? (
                      <>
                        <ul class="plain">
                          {version.stored.sets.map((set) => (
                            <li>
                              <a href={setHref(set.name, set.version)}>
                                {set.name}/{set.version}
                              </a>{' '}
                              <LevelBadge level={set.level as Level} />
                            </li>
                          ))}
                        </ul>
                        {version.stored.setCount > version.stored.sets.length ? (
                          <span class="muted">and {(version.stored.setCount - version.stored.sets.length).toLocaleString('en')} more</span>
                        ) : null}
                      </>
                    ) : (
                      <span class="muted">none</span>
                    )}
                  </td>
                  <td>
                    {version.hostCount === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <>
                        <strong>{version.hostCount.toLocaleString('en')}</strong>
                        <ul class="plain">
                          {version.hosts.map((host) => (
                            <li>
                              <a href={hostHref(host.machineId)}>{host.hostname}</a>
                            </li>
                          ))}
                        </ul>
                        {version.hostCount > version.hosts.length ? <span class="muted">and {(version.hostCount - version.hosts.length).toLocaleString('en')} more</span> : null}
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </Layout>
  );
}
