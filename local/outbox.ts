import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryRef, PushResult, PushSender, SmsSender } from '../functions/adapters/delivery.ts';
import { scanAll } from '../functions/adapters/dynamo.ts';
import type { OperatorAlert, OperatorNotifier } from '../functions/adapters/operator-notifier.ts';
import type { RenderedMessage } from '../functions/domain/templates.ts';
import { maskPhone } from '../functions/domain/user.ts';

/**
 * The embedded stand-in for the providers that cannot be reached from here: push, SMS and the
 * operator topic write exactly what they would have sent to a local `Outbox` table.
 * It exists only locally, so its definition lives here rather than in the stack.
 */
export const OUTBOX_TABLE: CreateTableCommandInput = {
  TableName: 'Outbox',
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: 'outboxId', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'outboxId', KeyType: 'HASH' }],
};

export interface OutboxItem {
  outboxId: string;
  channel: 'push' | 'sms' | 'operator';
  address: string;
  title?: string;
  text: string;
  at: string;
  recallId?: string;
  step?: string;
  kind?: string;
}

/** Lets tests make a provider fail: return an Error to throw it for this delivery. */
export type FaultInjector = (channel: 'push' | 'sms', ref: DeliveryRef) => Error | undefined;

export class LocalOutbox implements PushSender, SmsSender, OperatorNotifier {
  readonly optedOut = new Set<string>();
  readonly invalidTokens = new Set<string>();
  fault: FaultInjector | undefined;
  private seq = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly now: () => Date,
  ) {}

  private async write(item: Omit<OutboxItem, 'outboxId' | 'at'>): Promise<string> {
    const at = this.now().toISOString();
    const outboxId = `${at}#${item.channel}#${(this.seq++).toString(36)}`;
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { outboxId, at, ...item } }));
    return outboxId;
  }

  async send(
    address: string,
    message: RenderedMessage | string,
    ref: DeliveryRef,
  ): Promise<PushResult & { providerMessageId?: string }> {
    const channel = typeof message === 'string' ? 'sms' : 'push';
    const injected = this.fault?.(channel, ref);
    if (injected) throw injected;
    if (channel === 'push' && this.invalidTokens.has(address))
      return { kind: 'invalid_address', detail: 'PERMANENT_FAILURE: token not registered' };
    const id = await this.write({
      channel,
      address: channel === 'sms' ? maskPhone(address) : `${address.slice(0, 6)}…`,
      ...(typeof message === 'string' ? { text: message } : { title: message.title, text: message.body }),
      recallId: ref.recallId,
      step: ref.step,
    });
    return { kind: 'sent', providerMessageId: id };
  }

  async isOptedOut(phone: string): Promise<boolean> {
    return this.optedOut.has(phone);
  }

  async notify(alert: OperatorAlert): Promise<void> {
    await this.write({
      channel: 'operator',
      address: 'operators',
      title: alert.subject,
      text: alert.message,
      kind: alert.kind,
    });
  }

  scanAll(): AsyncGenerator<OutboxItem> {
    return scanAll<OutboxItem>(this.doc, this.tableName);
  }
}
