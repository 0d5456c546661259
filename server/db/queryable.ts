// What query modules accept: the pool, or a transaction in progress.
import type { Sql, TransactionSql } from 'postgres';

export type Queryable = Sql | TransactionSql;
