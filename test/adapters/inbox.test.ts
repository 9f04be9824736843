import { beforeAll, describe, expect, it } from 'vitest';
import { Inbox, type InboxMessage, inboxMessageId } from '../../functions/adapters/inbox.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';

const dynamo = useLocalDynamo();
let inbox: Inbox;

beforeAll(async () => {
  const defs = tablesFromTemplate(synthTemplate()).filter((d) => d.name === 'Inbox');
  expect(defs).toHaveLength(1);
  const [table] = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  inbox = new Inbox(dynamo.doc, table!.name);
});

function message(userId: string, day: number, recallId = `rc-${day}`): InboxMessage {
  const createdAt = `2026-11-${String(day).padStart(2, '0')}T01:00:00.000Z`;
  return {
    userId,
    messageId: inboxMessageId(createdAt, recallId, 'in_app'),
    recallId,
    title: `title ${day}`,
    body: `body ${day}`,
    createdAt,
  };
}

describe('Inbox', () => {
  it('derives a sortable message id from creation time, recall and step', () => {
    expect(inboxMessageId('2026-11-24T01:00:00.000Z', 'rc-1', 'in_app')).toBe(
      '2026-11-24T01:00:00.000Z#rc-1#in_app',
    );
  });

  it('lists newest first, page by page, and only that user', async () => {
    for (const day of [10, 14, 11, 13, 12]) await inbox.deliver(message('u-list', day));
    await inbox.deliver(message('u-else', 15));

    const first = await inbox.list('u-list', 2);
    expect(first.messages.map((m) => m.title)).toEqual(['title 14', 'title 13']);
    expect(first.nextToken).toBeTypeOf('string');
    expect(first.nextToken).not.toContain('#');

    const second = await inbox.list('u-list', 2, first.nextToken);
    expect(second.messages.map((m) => m.title)).toEqual(['title 12', 'title 11']);

    const third = await inbox.list('u-list', 2, second.nextToken);
    expect(third.messages.map((m) => m.title)).toEqual(['title 10']);
    expect(third).not.toHaveProperty('nextToken');

    const all = await inbox.list('u-list');
    expect(all.messages).toHaveLength(5);
    expect(all.messages[0]).toEqual(message('u-list', 14));
  });

  it('answers an empty page for a user with no messages', async () => {
    await expect(inbox.list('u-none')).resolves.toEqual({ messages: [] });
  });

  it('delivers once: a retried send does not overwrite the message', async () => {
    const first = message('u-dup', 20);
    await inbox.deliver(first);
    await inbox.deliver({ ...first, title: 'changed on retry' });

    const page = await inbox.list('u-dup');
    expect(page.messages).toEqual([first]);
  });

  it('marks a message opened once and answers it with its recall', async () => {
    const m = message('u-open', 21, 'rc-open');
    await inbox.deliver(m);

    const opened = await inbox.markOpened('u-open', m.messageId, '2026-11-21T08:00:00.000Z');
    expect(opened).toEqual({ ...m, openedAt: '2026-11-21T08:00:00.000Z' });

    const again = await inbox.markOpened('u-open', m.messageId, '2026-11-22T08:00:00.000Z');
    expect(again?.openedAt).toBe('2026-11-21T08:00:00.000Z');
  });

  it('answers undefined for an unknown message and does not create one', async () => {
    expect(await inbox.markOpened('u-open', 'no-such-id', '2026-11-21T08:00:00.000Z')).toBeUndefined();
    expect(await inbox.markOpened('u-ghost', 'no-such-id', '2026-11-21T08:00:00.000Z')).toBeUndefined();
    expect((await inbox.list('u-ghost')).messages).toEqual([]);
  });

  it('finds the in-app message of a recall', async () => {
    await inbox.deliver(message('u-rc', 5, 'rc-a'));
    await inbox.deliver(message('u-rc', 6, 'rc-b'));
    expect((await inbox.forRecall('u-rc', 'rc-a'))?.title).toBe('title 5');
    expect(await inbox.forRecall('u-rc', 'rc-none')).toBeUndefined();
  });
});
