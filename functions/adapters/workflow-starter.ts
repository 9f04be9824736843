import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';

export interface StartedExecution {
  executionArn: string;
  /** True when an execution of that name already existed: the start was a repeat. */
  alreadyStarted: boolean;
}

/** Starts one execution of the recall workflow under a deterministic name. */
export interface WorkflowStarter {
  start(name: string, input: object): Promise<StartedExecution>;
  /** False once the execution has ended (or never existed): its recall can no longer close itself. */
  isRunning(executionArn: string): Promise<boolean>;
  consoleUrl(executionArn: string): string;
}

const THROTTLED = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'InternalServerError',
  // The account's open executions are at the limit; it clears as executions end, so wait and retry.
  'ExecutionLimitExceeded',
]);

export interface BackoffOptions {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

/**
 * Step Functions `StartExecution`, paced against its quota: a throttled start waits with full
 * jitter and tries again instead of failing the scan. The name makes a repeated start a no-op.
 */
export class StepFunctionsStarter implements WorkflowStarter {
  private readonly backoff: BackoffOptions;

  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    backoff: Partial<BackoffOptions> = {},
  ) {
    this.backoff = {
      maxAttempts: 8,
      baseDelayMs: 100,
      maxDelayMs: 5_000,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      random: Math.random,
      ...backoff,
    };
  }

  async start(name: string, input: object): Promise<StartedExecution> {
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.sfn.send(
          new StartExecutionCommand({
            stateMachineArn: this.stateMachineArn,
            name,
            input: JSON.stringify(input),
          }),
        );
        return { executionArn: out.executionArn!, alreadyStarted: false };
      } catch (error) {
        if (error instanceof ExecutionAlreadyExists)
          return { executionArn: this.executionArn(name), alreadyStarted: true };
        const name_ = (error as Error).name;
        if (!THROTTLED.has(name_) || attempt >= this.backoff.maxAttempts) throw error;
        const cap = Math.min(this.backoff.maxDelayMs, this.backoff.baseDelayMs * 2 ** (attempt - 1));
        await this.backoff.sleep(Math.floor(this.backoff.random() * cap));
      }
    }
  }

  async isRunning(executionArn: string): Promise<boolean> {
    try {
      const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'RUNNING' || out.status === 'PENDING_REDRIVE';
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return false;
      throw error;
    }
  }

  executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  consoleUrl(executionArn: string): string {
    const region = executionArn.split(':')[3] ?? '';
    const host = region.startsWith('cn-')
      ? `${region}.console.amazonaws.cn`
      : `${region}.console.aws.amazon.com`;
    return `https://${host}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
  }
}
