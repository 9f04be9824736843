import { DuckDBInstance } from '@duckdb/node-api';

/**
 * The simulator's calibration figures, measured on a lake with DuckDB: the playbook's targets for
 * the churn structure and the portrait of churned users, and a quick warning backtest. The report
 * helper's `.sql` queries are the reference; this is the lake side's own check of the synthetic base.
 */
export interface Calibration {
  asOfDay: string;
  users: number;
  churned: number;
  noviceShareOfChurned: number;
  churnRateByStageAndChannel: { stage: string; channel: string; users: number; churnRate: number }[];
  highestChurnChannel: Record<string, string>;
  atMostTwoInvestmentsShareOfChurned: number;
  smallNoBonusShareOfChurned: number;
  atRiskShare: number;
  backtest: {
    horizonDays: number;
    daysEvaluated: number;
    precision: number;
    recall: number;
    flaggedShare: number;
  };
  loginThresholds: { days: number; precision: number; recall: number; flaggedShare: number }[];
}

const COLUMNS = `{day: 'VARCHAR', dayNumber: 'INTEGER', userId: 'VARCHAR', status: 'VARCHAR', level: 'VARCHAR',
  score: 'INTEGER', lifecycle: 'VARCHAR', channel: 'VARCHAR', reasonCodes: 'VARCHAR[]', registeredMonth: 'VARCHAR',
  investCount: 'INTEGER', maxInvestFen: 'BIGINT', totalInvestedFen: 'BIGINT', balanceFen: 'BIGINT',
  heldBonusProduct: 'BOOLEAN', daysSinceLogin: 'INTEGER', daysSinceInvest: 'INTEGER', churnReason: 'VARCHAR'}`;

export async function calibrate(lakeDir: string, horizonDays = 30): Promise<Calibration> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = async (sql: string) =>
    (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  try {
    await c.run(
      `CREATE TABLE snapshots AS SELECT * FROM read_json('${lakeDir}/snapshots/*/*.jsonl.gz', columns = ${COLUMNS}, format = 'newline_delimited')`,
    );
    const [last] = await rows(`SELECT max(dayNumber) AS d, max(day) AS day FROM snapshots`);
    const asOf = Number(last!.d);
    const byCell = await rows(`
      SELECT lifecycle AS stage, channel, count(*) AS users, avg(CASE WHEN status = 'churned' THEN 1 ELSE 0 END) AS churnRate
      FROM snapshots WHERE dayNumber = ${asOf} GROUP BY 1, 2 ORDER BY 1, 2`);
    const [p] = await rows(`
      SELECT count(*) AS users,
        sum(CASE WHEN status = 'churned' THEN 1 ELSE 0 END) AS churned,
        sum(CASE WHEN status = 'at_risk' THEN 1 ELSE 0 END) AS atRisk,
        sum(CASE WHEN status = 'churned' AND lifecycle = 'novice' THEN 1 ELSE 0 END) AS churnedNovice,
        sum(CASE WHEN status = 'churned' AND investCount <= 2 THEN 1 ELSE 0 END) AS churnedFew,
        sum(CASE WHEN status = 'churned' AND maxInvestFen < 1000000 AND NOT heldBonusProduct THEN 1 ELSE 0 END) AS churnedSmall
      FROM snapshots WHERE dayNumber = ${asOf}`);
    const n = (k: string) => Number(p![k]);
    // Backtest: every day D with D + horizon in the history; population not churned on D.
    const backtestSql = (flag: string) => `
      WITH fut AS (
        SELECT userId, dayNumber, max(CASE WHEN status = 'churned' THEN 1 ELSE 0 END)
          OVER (PARTITION BY userId ORDER BY dayNumber ROWS BETWEEN 1 FOLLOWING AND ${horizonDays} FOLLOWING) AS positive,
          status, daysSinceLogin
        FROM snapshots)
      SELECT count(*) AS n, sum(CASE WHEN ${flag} THEN 1 ELSE 0 END) AS flagged,
        sum(CASE WHEN ${flag} AND positive = 1 THEN 1 ELSE 0 END) AS tp,
        sum(CASE WHEN positive = 1 THEN 1 ELSE 0 END) AS pos,
        count(DISTINCT dayNumber) AS days
      FROM fut WHERE status <> 'churned' AND dayNumber + ${horizonDays} <= ${asOf}`;
    const measure = async (flag: string) => {
      const [r] = await rows(backtestSql(flag));
      const flagged = Number(r!.flagged);
      const tp = Number(r!.tp);
      return {
        days: Number(r!.days),
        precision: flagged ? tp / flagged : 0,
        recall: Number(r!.pos) ? tp / Number(r!.pos) : 0,
        flaggedShare: Number(r!.n) ? flagged / Number(r!.n) : 0,
      };
    };
    const policy = await measure(`status = 'at_risk'`);
    const loginThresholds = [];
    for (let days = 7; days <= 30; days++) {
      const m = await measure(`daysSinceLogin > ${days}`);
      loginThresholds.push({ days, precision: m.precision, recall: m.recall, flaggedShare: m.flaggedShare });
    }
    const cells = byCell.map((r) => ({
      stage: String(r.stage),
      channel: String(r.channel),
      users: Number(r.users),
      churnRate: Number(r.churnRate),
    }));
    const highestChurnChannel: Record<string, string> = {};
    for (const stage of ['novice', 'growth', 'mature']) {
      const top = cells.filter((x) => x.stage === stage).sort((a, b) => b.churnRate - a.churnRate)[0];
      if (top) highestChurnChannel[stage] = top.channel;
    }
    return {
      asOfDay: String(last!.day),
      users: n('users'),
      churned: n('churned'),
      noviceShareOfChurned: n('churnedNovice') / n('churned'),
      churnRateByStageAndChannel: cells,
      highestChurnChannel,
      atMostTwoInvestmentsShareOfChurned: n('churnedFew') / n('churned'),
      smallNoBonusShareOfChurned: n('churnedSmall') / n('churned'),
      atRiskShare: n('atRisk') / n('users'),
      backtest: {
        horizonDays,
        daysEvaluated: policy.days,
        precision: policy.precision,
        recall: policy.recall,
        flaggedShare: policy.flaggedShare,
      },
      loginThresholds,
    };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
