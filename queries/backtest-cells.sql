-- The warning backtest, counted in cells that every backtest figure is a sum of.
-- A user-day (user U, day D) is in the population when D is judged (:from_day <= D <= :last_judged_day,
-- so that D + horizon is still in the history) and U's status on D is not churned. It is flagged when
-- the status is at_risk, and positive when U's status is churned on at least one day D+1 .. D+horizon.
-- The next churned day comes from one window over each user's days, so the lake is read once.
WITH history AS (
  SELECT
    dayNumber,
    status,
    level,
    score,
    daysSinceLogin,
    MIN(CASE WHEN status = 'churned' THEN dayNumber END) OVER (
      PARTITION BY userId ORDER BY dayNumber ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    ) AS next_churned_day
  FROM snapshots
  WHERE "day" BETWEEN :from_date AND :horizon_end_date
    AND dayNumber BETWEEN :from_day AND :last_judged_day + :horizon_days
),
judged AS (
  SELECT
    status,
    level,
    score,
    -- 31 stands for "31 days or more": login thresholds go up to 30.
    LEAST(daysSinceLogin, 31) AS days_since_login,
    CASE WHEN next_churned_day <= dayNumber + :horizon_days THEN 1 ELSE 0 END AS positive
  FROM history
  WHERE dayNumber BETWEEN :from_day AND :last_judged_day AND status <> 'churned'
)
SELECT
  status,
  level,
  score,
  days_since_login,
  COUNT(*) AS user_days,
  SUM(positive) AS positives
FROM judged
GROUP BY status, level, score, days_since_login
ORDER BY status, level, score, days_since_login
