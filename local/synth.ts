import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { type WinbackConfig, WinbackStack } from '../lib/winback-stack.ts';
import type { CfnTemplate } from './template.ts';

/**
 * Synthesizes the real stack in-process, without bundling the Lambda code (the embedded runtime
 * imports the handlers directly). This template is the single source of the tables and state
 * machines that the embedded runtime creates and executes.
 */
export function synthTemplate(config: WinbackConfig = {}): CfnTemplate {
  const outdir = mkdtempSync(join(tmpdir(), 'winback-synth-'));
  try {
    const app = new App({
      outdir,
      context: { 'aws:cdk:bundling-stacks': [] },
      // `cdk synth` (npm test) validates this same template; here it cost seconds of every start.
      builtinCloudFormationValidation: false,
    });
    new WinbackStack(app, 'Winback', { config });
    return app.synth().getStackByName('Winback').template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
