import type { TestProject } from 'vitest/node';
import { startDynamoServer } from '../local/dynamo-server.ts';

// One dynalite child for the whole run; test files isolate themselves by table-name prefix.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startDynamoServer({});
  project.provide('dynamoEndpoint', server.endpoint);
  return () => server.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
