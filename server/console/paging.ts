// One page of a long list: every console list is read a page at a time (LIMIT/OFFSET on an ordered,
// indexed query) with its total count.
export interface Paged<T> {
  rows: T[];
  total: number;
  page: number;
  pageSize: number;
  pages: number;
}

export function paged<T>(rows: T[], total: number, page: number, pageSize: number): Paged<T> {
  return { rows, total, page, pageSize, pages: Math.max(1, Math.ceil(total / pageSize)) };
}

export function offsetOf(page: number, pageSize: number): number {
  return (page - 1) * pageSize;
}
