// Waiting for a set's upstream members, adopted in the background (server/mirrors/set-adoptions.ts).
import type { ApiClient } from '../../common/http-client.ts';
import type { PendingMember } from '../../server/services/sets.ts';

export interface SetWithPending {
  complete: boolean;
  level: string;
  packages: string[];
  members: { nevra: string }[];
  pending: PendingMember[];
}

/** The set once nothing is pending any more (complete, or with failed members), at most `timeoutMs`. */
export async function setSettled(client: ApiClient, reference: string, timeoutMs = 60_000): Promise<SetWithPending> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await client.get<SetWithPending>(`/api/v1/sets/${reference}`);
    if (body.pending.every((member) => member.state === 'failed')) return body;
    if (Date.now() > deadline) throw new Error(`${reference} still has pending members: ${JSON.stringify(body.pending)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
