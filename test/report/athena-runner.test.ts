import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaLakeRunner, AthenaQueryError } from '../../functions/adapters/lake-query.ts';

const athena = mockClient(AthenaClient);
const columns = [
  { Name: 'stage', Type: 'varchar' },
  { Name: 'users', Type: 'bigint' },
  { Name: 'median_max_invest_fen', Type: 'double' },
];
const row = (...values: (string | undefined)[]) => ({
  Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })),
});

function runner(sleeps: number[]) {
  return new AthenaLakeRunner(new AthenaClient({ region: 'ap-east-1' }), 'winback-lake', 'winback_lake', {
    firstPollMs: 100,
    maxPollMs: 400,
    timeoutMs: 10_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

beforeEach(() => {
  athena.reset();
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
});

describe('AthenaLakeRunner', () => {
  it('starts the query in the workgroup and database with its parameters written in', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: columns },
        Rows: [row('stage', 'users', 'median_max_invest_fen')],
      },
    });
    await runner([]).run(
      'SELECT 1 FROM snapshots WHERE "day" = :as_of_date AND (dayNumber = :as_of_day OR dayNumber = :as_of_day)',
      { as_of_day: 20500, as_of_date: '2026-02-17' },
    );
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: `SELECT 1 FROM snapshots WHERE "day" = '2026-02-17' AND (dayNumber = 20500 OR dayNumber = 20500)`,
      WorkGroup: 'winback-lake',
      QueryExecutionContext: { Database: 'winback_lake' },
    });
  });

  it('waits with a growing pause until the query ends, then reads every page, typed by column', async () => {
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', MaxResults: 1000, NextToken: undefined })
      .resolves({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: columns },
          // The first page of a SELECT starts with the header row.
          Rows: [row('stage', 'users', 'median_max_invest_fen'), row('novice', '12', '50000.0')],
        },
        NextToken: 'page-2',
      })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', MaxResults: 1000, NextToken: 'page-2' })
      .resolves({
        ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('mature', '3', undefined)] },
      });

    const sleeps: number[] = [];
    const rows = await runner(sleeps).run('SELECT 1');
    expect(rows).toEqual([
      { stage: 'novice', users: 12, median_max_invest_fen: 50_000 },
      { stage: 'mature', users: 3, median_max_invest_fen: null },
    ]);
    expect(sleeps).toEqual([100, 200, 400, 400]);
    expect(athena).toHaveReceivedCommandTimes(GetQueryExecutionCommand, 5);
    expect(athena).toHaveReceivedCommandWith(GetQueryExecutionCommand, { QueryExecutionId: 'q-1' });
    expect(athena).toHaveReceivedCommandTimes(GetQueryResultsCommand, 2);
  });

  it('names the query and Athena’s reason when it fails', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'Query exhausted resources' } },
    });
    const run = runner([]).run('SELECT 1');
    await expect(run).rejects.toBeInstanceOf(AthenaQueryError);
    await expect(run).rejects.toThrow('Athena query q-1 failed: Query exhausted resources');
    expect(athena).toHaveReceivedCommandTimes(GetQueryResultsCommand, 0);
  });

  it('gives up after its time limit instead of polling forever', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    const sleeps: number[] = [];
    await expect(runner(sleeps).run('SELECT 1')).rejects.toThrow(/still RUNNING after 10\d{3} ms/);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10_000);
  });
});
