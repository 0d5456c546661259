// What every route and service is given: configuration, database, package store, signer, repodata
// cache, log.
import type { Sql } from 'postgres';
import type { EntryChecks } from './checks/entry-checks.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './ops/metrics.ts';
import type { RepodataCache } from './repodata/cache.ts';
import type { SetAdoptionJob } from './mirrors/set-adoptions.ts';
import type { CleanupJob } from './retention/job.ts';
import type { RotationControl } from './services/key-rotation.ts';
import type { RepoDirectory } from './services/repositories.ts';
import type { Keyring } from './signing/keyring.ts';
import type { PackageSigner } from './signing/signer.ts';
import type { BlobStore } from './store/store.ts';
import type { PackageFileMemory, PublicKeyFile } from './http/warm-files.ts';

export interface AppContext {
  config: Config;
  sql: Sql;
  store: BlobStore;
  log: Logger;
  signer: PackageSigner;
  keyring: Keyring;
  rotation: RotationControl;
  repodata: RepodataCache;
  /** House policies, rpmlint and exceptions, run on every package entering the store. */
  entryChecks: EntryChecks;
  /** Which repository a URL names, and its generation, from memory. */
  repositories: RepoDirectory;
  /** What package URLs named in the current repository generations, for the warm path. */
  packageFiles: PackageFileMemory;
  /** /keys/rpmgate.asc, armored once per change of the published keys. */
  publicKey: PublicKeyFile;
  /** Prometheus metrics of this process (and, through it, of the whole server: server/ops). */
  metrics: Metrics;
  /** Retention: the cleanup's dry run and run, and its schedule. */
  cleanup: CleanupJob;
  /** Upstream members of sets, adopted in the background (kicked by `set create`). */
  setAdoptions: SetAdoptionJob;
}
