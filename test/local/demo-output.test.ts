import { describe, expect, it } from 'vitest';
import { dayLine, demoPolicy, localStamp, moreLine, recallCountsLegend } from '../../local/commands/demo.ts';

const MORNING = new Date('2026-11-24T01:00:00Z');

describe('demo output', () => {
  it('prints times in the scan zone, not UTC ISO', () => {
    expect(localStamp(MORNING)).toBe('Tue 24 Nov, 09:00 Asia/Shanghai');
  });

  it('says which started recalls were messaged, holdout or skipped, with correct plurals', () => {
    const line = dayLine(
      1,
      MORNING,
      { at_risk: 1_200, churned: 480 },
      { started: 1_151, already_active: 0, cooldown: 0 },
      { holdout: 48, skipped: 95, sent: 1 },
    );
    expect(line).toBe(
      'day 1 Tue 24 Nov, 09:00 Asia/Shanghai: 1,200 at risk, 480 churned; 1,151 recalls started (1,008 messaged, 48 holdout, 95 skipped), 0 already in a recall, 0 in cool-down; 1 message sent',
    );
    expect(
      dayLine(2, MORNING, { at_risk: 1, churned: 0 }, {}, { holdout: 0, skipped: 0, sent: 0 }),
    ).toContain(
      ': 1 at risk, 0 churned; 0 recalls started, 0 already in a recall, 0 in cool-down; 0 messages sent',
    );
  });

  it('explains every recall count of the digest', () => {
    const legend = recallCountsLegend({ started: 12, cooldown: 35, already_active: 73 }, 30).split('\n');
    expect(legend[0]).toBe('what the recall counts of the last scan mean:');
    expect(legend[1]).toMatch(/^ {2}already_active +73 {2}the user is still in an earlier recall/);
    expect(legend[2]).toMatch(/^ {2}cooldown +35 {2}the user's last recall closed less than 30 days ago/);
    expect(legend[3]).toMatch(/^ {2}started +12 {2}a recall opened .*holdout.*skipped/);
    expect(recallCountsLegend({}, 1)).toContain('no at-risk or churned user was considered');
    expect(recallCountsLegend({ cooldown: 1 }, 1)).toContain('less than 1 day ago');
  });

  it('holds out 20% unless the policy names its own share, and passes anything else on unchanged', () => {
    expect(demoPolicy(undefined)).toEqual({ recall: { holdoutShare: 0.2 } });
    expect(demoPolicy({ warnings: { loginDaysOver: 10 }, recall: { cooldownDays: 7 } })).toEqual({
      warnings: { loginDaysOver: 10 },
      recall: { cooldownDays: 7, holdoutShare: 0.2 },
    });
    expect(demoPolicy({ recall: { holdoutShare: 0.05 } })).toEqual({ recall: { holdoutShare: 0.05 } });
    expect(demoPolicy('not a policy')).toBe('not a policy');
  });

  it('points to the commands that show more, with the data dir when there is one', () => {
    expect(moreLine('/tmp/w')).toContain('`winback export outbox --data-dir /tmp/w`');
    expect(moreLine('/tmp/w')).toContain('`winback recall USER_ID --data-dir /tmp/w`');
    expect(moreLine(undefined)).toContain('run with --data-dir DIR');
  });
});
