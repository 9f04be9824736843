import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/domain/api-schemas.ts';
import { openApiDocument } from '../../functions/domain/openapi.ts';
import { useApiServer } from '../support/api-server.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import { useTempDir } from '../support/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const temp = useTempDir('winback-openapi-');

type Json = Record<string, unknown>;

describe('the OpenAPI document', () => {
  it('passes the Redocly linter with its recommended rules, warnings included', async () => {
    const file = join(temp.path(), 'openapi.json');
    await writeFile(file, JSON.stringify(openApiDocument(), null, 2));
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'),
          'lint',
          file,
          '--extends=recommended',
          '--max-problems=50',
        ],
        { cwd: temp.path(), env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' } },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, output: out }));
    });
    expect(code, output).toBe(0);
    expect(output).toContain('Your API description is valid');
    expect(output).not.toMatch(/warning/i);
  }, 120_000);
});

/**
 * Real requests through the local server (the same handler the Lambda runs) and every response
 * checked against the document: its status must be listed for that operation, and its body must
 * match the schema listed for that status.
 */
describe('live responses match the OpenAPI document', () => {
  const TOKEN = 'contract-token';
  const doc = openApiDocument() as {
    paths: Record<string, Record<string, { operationId: string; responses: Record<string, Json> }>>;
    components: Json;
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const validators = new Map<string, ValidateFunction>();
  const seen: { operationId: string; status: number }[] = [];
  const api = useApiServer({ token: TOKEN, policy: { recall: { holdoutShare: 0 } } });

  function operationFor(method: string, path: string): { template: string; operationId: string } | undefined {
    for (const route of API_ROUTES) {
      if (route.method !== method) continue;
      const pattern = new RegExp(`^${route.path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      if (pattern.test(path)) return { template: route.path, operationId: route.operationId };
    }
    return undefined;
  }

  /** Sends a request and checks the answer against the document; returns the parsed body. */
  async function call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Json }> {
    const res = await fetch(api.server.url + path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    const parsed = JSON.parse(text) as Json;
    const op = operationFor(method, new URL(api.server.url + path).pathname);
    if (op) {
      const operation = doc.paths[op.template]![method.toLowerCase()]!;
      const response = operation.responses[String(res.status)] as
        | { content?: { 'application/json'?: { schema?: Json } } }
        | undefined;
      expect(
        response,
        `${method} ${path} answered ${res.status}, which the document does not list`,
      ).toBeDefined();
      const schema = response!.content?.['application/json']?.schema;
      expect(schema, `${method} ${path} ${res.status} has no body schema`).toBeDefined();
      const key = `${op.operationId} ${res.status}`;
      let validate = validators.get(key);
      if (!validate) {
        // The document's components travel with each schema so its $refs resolve.
        validate = ajv.compile({ ...schema, components: doc.components });
        validators.set(key, validate);
      }
      const valid = validate(parsed);
      expect(valid, `${key}: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 600)}`).toBe(true);
      seen.push({ operationId: op.operationId, status: res.status });
    }
    return { status: res.status, body: parsed };
  }

  it('every route, success and error, answers as documented', async () => {
    const { userId: _u, ...profile } = aUser({
      userId: 'u-away',
      lastLoginAt: daysBefore(AS_OF, 20),
      lastInvestAt: daysBefore(AS_OF, 20),
      balanceFen: 5_000,
    });
    expect((await call('GET', '/openapi.json')).status).toBe(200);
    expect((await call('PUT', '/users/u-away', profile)).status).toBe(201);
    expect((await call('PUT', '/users/u-away', profile)).status).toBe(200);
    const { userId: _k, ...keen } = aUser({ userId: 'u-keen' });
    expect((await call('PUT', '/users/u-keen', keen)).status).toBe(201);
    const bad = await call('PUT', '/users/u-away', { ...profile, balanceFen: 1.5, channel: undefined });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([
      { in: 'body', field: 'channel', message: 'required' },
      { in: 'body', field: 'balanceFen', message: 'must be a whole number of fen' },
    ]);

    // Before the first scan a known user is assessed on the spot (fresh: true); only an unknown one is 404.
    const early = await call('GET', '/users/u-away/assessment');
    expect(early.status).toBe(200);
    expect(early.body.fresh).toBe(true);
    expect((await call('GET', '/users/nobody/assessment')).status).toBe(404);
    expect((await call('GET', '/users/u-away/assessment?fresh=true')).status).toBe(200);
    expect((await call('GET', '/users/u-away/assessment?fresh=maybe')).status).toBe(400);
    await api.server.runtime.runDailyScan(AS_OF.toISOString());
    expect((await call('GET', '/users/u-away/assessment')).status).toBe(200);
    // The scan wrote a day of history into the lake: the report is built from it.
    const report = await call('GET', '/reports/latest');
    expect(report.status).toBe(200);
    expect((report.body as { churnStructure: { users: number } }).churnStructure.users).toBe(2);

    const login = { eventId: 'e-1', userId: 'u-keen', type: 'login', at: AS_OF.toISOString() };
    expect((await call('POST', '/events', login)).status).toBe(200);
    expect(
      (await call('POST', '/events', { events: [login, { ...login, eventId: 'e-2', userId: 'nobody' }] }))
        .status,
    ).toBe(200);
    expect((await call('POST', '/events', 'not json')).status).toBe(400);
    expect((await call('POST', '/events', login, { 'content-type': 'text/plain' })).status).toBe(415);
    expect(
      (await call('POST', '/events', { events: Array(2000).fill({ ...login, pad: 'x'.repeat(40) }) })).status,
    ).toBe(413);

    expect(
      (await call('POST', '/users/u-keen/feedback', { reason: 'economic', satisfaction: 4 })).status,
    ).toBe(200);
    expect(
      (await call('POST', '/users/nobody/feedback', { reason: 'economic', satisfaction: 4 })).status,
    ).toBe(404);

    const started = await call('POST', '/recalls', { userId: 'u-keen', reason: 'vip_call_back' });
    expect(started.status).toBe(202);
    expect((await call('POST', '/recalls', { userId: 'u-keen' })).status).toBe(409);
    expect((await call('POST', '/recalls', { userId: 'nobody' })).status).toBe(404);
    await api.server.runtime.advanceTo(new Date(AS_OF.getTime() + 3 * 86_400_000));
    const recall = await call('GET', `/recalls/${started.body.recallId as string}`);
    expect(recall.status).toBe(200);
    expect((recall.body.steps as unknown[]).length).toBeGreaterThan(0);
    expect((await call('GET', '/recalls/no-such-recall')).status).toBe(404);
    expect((await call('GET', '/recalls/bad%20id')).status).toBe(400);

    const inbox = await call('GET', '/users/u-keen/inbox?limit=5');
    expect(inbox.status).toBe(200);
    expect((inbox.body.messages as unknown[]).length).toBeGreaterThan(0);
    expect((await call('GET', '/users/nobody/inbox')).status).toBe(404);

    const filter = { status: 'at_risk' };
    expect((await call('POST', '/recalls/segments', { filter, dryRun: true })).status).toBe(200);
    const job = await call('POST', '/recalls/segments', { filter, note: 'contract test' });
    expect(job.status).toBe(202);
    expect((await call('GET', `/recalls/segments/${job.body.jobId as string}`)).status).toBe(200);
    expect((await call('POST', `/recalls/segments/${job.body.jobId as string}/resume`)).status).toBe(409);
    // One user a page, one page a run: the job pauses and a resume continues it.
    const paged = await call('POST', '/recalls/segments', {
      filter: { status: ['at_risk', 'active'] },
      pageSize: 1,
      maxPages: 1,
    });
    expect(paged.body.status).toBe('paused');
    expect(
      (await call('POST', `/recalls/segments/${paged.body.jobId as string}/resume`, { maxPages: 1 })).status,
    ).toBe(202);
    expect((await call('GET', '/recalls/segments/jnothing0')).status).toBe(404);

    expect((await call('GET', '/users/u-keen/nothing')).status).toBe(404);
    expect((await call('GET', '/recalls/segments')).status).toBe(405);
    expect((await call('GET', '/openapi.json', undefined, { authorization: 'Bearer wrong' })).status).toBe(
      401,
    );

    // Every operation was seen answering its documented success status.
    for (const route of API_ROUTES) {
      expect(
        seen.some((s) => s.operationId === route.operationId && s.status === route.success.status),
        route.operationId,
      ).toBe(true);
    }
  }, 120_000);
});
