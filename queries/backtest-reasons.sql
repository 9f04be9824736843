-- Each assessment reason judged as a warning rule on its own, over the same population and horizon
-- as backtest-cells.sql: a user-day counts for a reason when the assessment on D carried that reason
-- (whether or not the reason alone made the user at_risk).
WITH history AS (
  SELECT
    userId,
    dayNumber,
    status,
    reasonCodes,
    MIN(CASE WHEN status = 'churned' THEN dayNumber END) OVER (
      PARTITION BY userId ORDER BY dayNumber ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    ) AS next_churned_day
  FROM snapshots
  WHERE "day" BETWEEN :from_date AND :horizon_end_date
    AND dayNumber BETWEEN :from_day AND :last_judged_day + :horizon_days
),
judged AS (
  SELECT
    reasonCodes,
    CASE WHEN next_churned_day <= dayNumber + :horizon_days THEN 1 ELSE 0 END AS positive
  FROM history
  WHERE dayNumber BETWEEN :from_day AND :last_judged_day AND status <> 'churned'
)
SELECT
  r.reason,
  COUNT(*) AS flagged,
  SUM(j.positive) AS true_positives
FROM judged j
CROSS JOIN UNNEST(j.reasonCodes) AS r (reason)
GROUP BY r.reason
ORDER BY r.reason
