/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Small building blocks shared by the console's pages: badges, times, tables, pagination, notices.
import type { Child } from 'hono/jsx';
import type { Level } from '../../../common/roles.ts';
import type { Paged } from '../paging.ts';

const levelLabels: Record<Level, string> = {
  integ: 'integ',
  qa_ready: 'qa_ready',
  pre_release: 'pre_release',
  release: 'release',
  obsolete: 'obsolete',
};

export function LevelBadge(props: { level: Level }) {
  return <span class={`badge level-${props.level}`}>{levelLabels[props.level]}</span>;
}

const statusLabels = { conforming: 'conforming', drifting: 'drifting', no_set: 'no set', unknown_set: 'unknown set' } as const;

export function StatusBadge(props: { status: keyof typeof statusLabels }) {
  return <span class={`badge status-${props.status}`}>{statusLabels[props.status]}</span>;
}

/** A time as UTC text, machine-readable in datetime. */
export function Time(props: { at: Date | number }) {
  const date = typeof props.at === 'number' ? new Date(props.at) : props.at;
  const iso = date.toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

/** A table that scrolls sideways on a narrow screen; the region is focusable so keyboards can scroll it. */
export function TableRegion(props: { label: string; children: Child }) {
  return (
    <div class="table-wrap" role="region" aria-label={props.label} tabindex={0}>
      {props.children}
    </div>
  );
}

export function Empty(props: { children: Child }) {
  return <p class="empty">{props.children}</p>;
}

export function Flash(props: { kind: 'ok' | 'error'; children: Child }) {
  return (
    <div class={`flash flash-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

/** "Showing 51–100 of 3,000" and previous/next links that keep the other query parameters. */
export function Pagination(props: { paged: Paged<unknown>; url: URL; label: string; param?: string }) {
  const { paged, url } = props;
  const param = props.param ?? 'page';
  if (paged.total === 0) return null;
  const first = (paged.page - 1) * paged.pageSize + 1;
  const last = Math.min(paged.total, paged.page * paged.pageSize);
  const link = (page: number) => {
    const next = new URL(url);
    if (page === 1) next.searchParams.delete(param);
    else next.searchParams.set(param, String(page));
    return `${next.pathname}${next.search}`;
  };
  return (
    <nav class="pagination" aria-label={props.label}>
      <p>
        Showing {first.toLocaleString('en')}–{last.toLocaleString('en')} of {paged.total.toLocaleString('en')}
      </p>
      {paged.pages > 1 ? (
        <ul>
          <li>{paged.page > 1 ? <a href={link(paged.page - 1)} rel="prev">Previous</a> : <span aria-disabled="true">Previous</span>}</li>
          <li aria-current="page">
            Page {paged.page} of {paged.pages.toLocaleString('en')}
          </li>
          <li>{paged.page < paged.pages ? <a href={link(paged.page + 1)} rel="next">Next</a> : <span aria-disabled="true">Next</span>}</li>
        </ul>
      ) : null}
    </nav>
  );
}

export function setHref(name: string, version: string): string {
  return `/ui/sets/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;
}

/** A link to a set named "NAME/VERSION" (as hosts report it). */
export function setRefHref(reference: string): string {
  const slash = reference.indexOf('/');
  return setHref(reference.slice(0, slash), reference.slice(slash + 1));
}

export function hostHref(machineId: string): string {
  return `/ui/hosts/${encodeURIComponent(machineId)}`;
}

export function componentHref(name: string): string {
  return `/ui/components/${encodeURIComponent(name)}`;
}
