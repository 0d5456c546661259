// A console section that shows what another capability of rpmgate knows (entry checks, cleanup,
// mirrors). Each such section reads that capability's service; one whose service this server does not
// have yet answers "not configured" and the page says so instead of showing nothing.
export type SectionData<T> = { configured: false } | { configured: true; data: T };

export const notConfigured = { configured: false } as const;
