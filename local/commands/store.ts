import { scanAll } from '../../functions/adapters/dynamo.ts';
import { localTime } from '../../functions/domain/time.ts';
import { parseUserRecord, type UserRecord } from '../../functions/domain/user.ts';
import { formatLineError, readUserRecords } from '../jsonl.ts';
import type { Runtime } from '../runtime.ts';

async function writeLine(out: NodeJS.WritableStream, value: unknown): Promise<void> {
  // A number past the safe range reads back as a BigInt, which JSON.stringify refuses: it is written
  // as its exact digits in a string, so one bad item never stops an export.
  const line = JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  if (!out.write(`${line}\n`)) await new Promise((r) => out.once('drain', r));
}

export const EXPORTS = ['users', 'recalls', 'messages', 'rewards', 'outbox'] as const;
export type ExportKind = (typeof EXPORTS)[number];

/** Writes one kind of record as JSON lines, page by page. */
export async function runExport(rt: Runtime, kind: ExportKind, out: NodeJS.WritableStream): Promise<number> {
  let n = 0;
  if (kind === 'users') {
    for await (const item of scanAll<Record<string, unknown>>(rt.clients.doc, rt.tables.Users)) {
      await writeLine(out, item);
      n++;
    }
  } else if (kind === 'recalls') {
    for await (const r of rt.recalls.scanAll()) {
      await writeLine(out, {
        recallId: r.recallId,
        userId: r.userId,
        trigger: r.trigger,
        level: r.level,
        startedAt: r.startedAt,
        closedAt: r.closedAt ?? null,
        outcome: r.outcome,
        returnedAt: r.returnedAt ?? null,
        winningStep: r.winningStep ?? null,
        holdout: r.holdout,
        reasonCodes: r.reasonCodes,
        plan: r.plan
          ? {
              route: r.plan.route,
              channels: r.plan.channels,
              strategies: r.plan.strategies.map((s) => s.kind),
            }
          : null,
        steps: r.steps,
        rewardId: r.rewardId ?? null,
      });
      n++;
    }
  } else if (kind === 'messages') {
    for await (const m of rt.ledger.scanAll()) {
      if (m.status !== 'sent') continue;
      await writeLine(out, {
        recallId: m.recallId,
        userId: m.userId,
        channel: m.channel,
        step: m.step,
        sentAt: m.sentAt,
        localTime: m.localTime,
        title: m.title,
        text: m.text,
        address: m.address,
      });
      n++;
    }
  } else if (kind === 'rewards') {
    for await (const r of rt.rewards.scanAll()) {
      await writeLine(out, r);
      n++;
    }
  } else {
    for await (const item of rt.outbox.scanAll()) {
      await writeLine(out, item);
      n++;
    }
  }
  return n;
}

/** Loads user records with the same validation as every other reader; bad lines are named and skipped. */
export async function runImport(
  rt: Runtime,
  input: string,
  stderr: NodeJS.WritableStream,
): Promise<{ imported: number; bad: number }> {
  let batch: UserRecord[] = [];
  let imported = 0;
  let bad = 0;
  for await (const line of readUserRecords(input, 'record')) {
    if ('error' in line) {
      bad++;
      stderr.write(`${formatLineError(line)}\n`);
      continue;
    }
    batch.push(line.user);
    if (batch.length === 500) {
      await rt.users.putMany(batch);
      imported += batch.length;
      batch = [];
    }
  }
  await rt.users.putMany(batch);
  imported += batch.length;
  return { imported, bad };
}

/** A user's recall history step by step: the local stand-in for reading an execution in the console. */
export async function runRecallHistory(
  rt: Runtime,
  userOrRecallId: string,
  out: NodeJS.WritableStream,
): Promise<number> {
  const say = (s = '') => out.write(`${s}\n`);
  // Accepts a recall id too: that is what the API's consoleUrl points at locally.
  const asRecall = await rt.recalls.get(userOrRecallId);
  const userId = asRecall?.userId ?? userOrRecallId;
  const parsed = parseUserRecord(await rt.users.get(userId));
  if (!parsed.ok) {
    say(`no valid user ${userId} in this store`);
    return 1;
  }
  const user = parsed.value;
  const recalls = (asRecall ? [asRecall] : await rt.recalls.listForUser(userId)).sort((a, b) =>
    a.startedAt.localeCompare(b.startedAt),
  );
  say(`user ${userId} (${user.channel}, ${user.timeZone}): ${recalls.length} recall(s)`);
  if (user.assessment) {
    say(
      `latest assessment ${user.assessment.assessedAt}: ${user.assessment.status} / ${user.assessment.level}, score ${user.assessment.score}, ${user.assessment.reasons.map((r) => r.code).join(', ')}`,
    );
  }
  for (const r of recalls) {
    say();
    say(`recall ${r.recallId} (${r.trigger}, level ${r.level}${r.holdout ? ', holdout' : ''})`);
    say(`  ${r.startedAt}  started; reasons: ${r.reasonCodes.join(', ') || '-'}`);
    if (r.plan)
      say(
        `  plan: ${r.plan.route}, channels ${r.plan.channels.join(' → ') || 'none'}, content ${r.plan.strategies.map((s) => s.kind).join(', ')}`,
      );
    const messages = await rt.ledger.forRecall(r.recallId);
    for (const step of [...(r.steps ?? [])].sort((a, b) => a.at.localeCompare(b.at))) {
      const m = messages.find((x) => x.step === step.step && step.result === 'sent');
      say(
        `  ${step.at}  ${step.step}: ${step.result}${step.detail ? ` (${step.detail})` : ''}${m ? ` at ${localTime(step.at, user.timeZone)}: "${m.text}"` : ''}`,
      );
    }
    if (r.outcome) {
      say(
        `  ${r.closedAt}  closed: ${r.outcome}${r.winningStep ? ` after ${r.winningStep}` : ''}${r.returnedAt ? `, came back ${r.returnedAt} (${r.returnedBy ?? '?'})` : ''}`,
      );
    } else say('  (still running)');
    const execution = rt.recallWorkflow.describe(r.recallId);
    if (execution) {
      for (const e of execution.history.filter((h) => h.type === 'StateEntered'))
        say(`    ${e.at}  ${e.state}`);
    }
  }
  return 0;
}
