-- Recalls and holdout draws started in the report window, each with the day its user came back and
-- whether a returned user went quiet again within 30 days
-- (functions/domain/effectiveness.ts: recallsSection).
-- Reads `recalls` (one outcome row per recall or holdout draw, partitioned by its start day) and
-- `snapshots`.
-- A return is a login or an investment on a later day than the one the draw's start-day snapshot
-- already shows: the same rule for recalled and holdout users. An opened in-app message is not a
-- return, since a holdout user has none. Without a start-day snapshot, any login or investment on or
-- after the start day counts. return_day_number is null while the user has not come back.
-- A relapse is a churned status, or more days without login than the warning threshold, on one of
-- the 30 days after the return. It stays null until all 30 days are in the lake, also for a relapse
-- already seen: a rate over the watches that ended is not tilted towards the early relapses.
WITH draws AS (
  SELECT *
  FROM recalls
  WHERE day BETWEEN :from_date AND :to_date
),
baseline AS (
  SELECT
    r.recallId,
    s.dayNumber - s.daysSinceLogin AS loginDayAtStart,
    s.dayNumber - s.daysSinceInvest AS investDayAtStart
  FROM draws r
  LEFT JOIN snapshots s
    ON s.userId = r.userId AND s.dayNumber = r.startedDayNumber AND s.day >= :from_date
),
later AS (
  SELECT
    r.recallId,
    MIN(CASE
      WHEN s.dayNumber - s.daysSinceLogin > COALESCE(b.loginDayAtStart, r.startedDayNumber - 1)
      THEN s.dayNumber - s.daysSinceLogin
    END) AS loginDay,
    MIN(CASE
      WHEN s.daysSinceInvest IS NOT NULL
        AND s.dayNumber - s.daysSinceInvest > COALESCE(b.investDayAtStart, r.startedDayNumber - 1)
      THEN s.dayNumber - s.daysSinceInvest
    END) AS investDay
  FROM draws r
  JOIN baseline b ON b.recallId = r.recallId
  JOIN snapshots s ON s.userId = r.userId AND s.dayNumber > r.startedDayNumber AND s.day > :from_date
  GROUP BY r.recallId
),
returns AS (
  SELECT
    r.recallId,
    r.userId,
    -- LEAST would differ between the engines on a null (Trino: null, DuckDB: the other value).
    CASE
      WHEN l.loginDay IS NULL THEN l.investDay
      WHEN l.investDay IS NULL THEN l.loginDay
      WHEN l.loginDay <= l.investDay THEN l.loginDay
      ELSE l.investDay
    END AS returnDayNumber
  FROM draws r
  LEFT JOIN later l ON l.recallId = r.recallId
),
relapses AS (
  SELECT
    t.recallId,
    MAX(CASE WHEN s.status = 'churned' OR s.daysSinceLogin > :login_days_over THEN 1 ELSE 0 END) AS relapsed
  FROM returns t
  JOIN snapshots s
    ON s.userId = t.userId
    AND s.dayNumber > t.returnDayNumber
    AND s.dayNumber <= t.returnDayNumber + 30
    AND s.day > :from_date
  WHERE t.returnDayNumber IS NOT NULL
  GROUP BY t.recallId
)
SELECT
  r.recallId AS recall_id,
  r.trigger AS recall_trigger,
  r.holdout AS holdout,
  r.startedDayNumber AS started_day_number,
  r.closedDayNumber AS closed_day_number,
  r.outcome AS outcome,
  r.winningStep AS winning_step,
  r.level AS level,
  r.lifecycle AS lifecycle,
  r.channel AS channel,
  r.strategy AS strategy,
  r.smsCount AS sms_count,
  r.pushCount AS push_count,
  r.inAppCount AS in_app_count,
  r.smsDayNumber AS sms_day_number,
  r.smsSkipped AS sms_skipped,
  r.rewardFen AS reward_fen,
  r.rewardUnlocked AS reward_unlocked,
  r.reinvestedFen AS reinvested_fen,
  t.returnDayNumber AS return_day_number,
  CASE
    WHEN r.outcome IS NULL OR r.outcome <> 'returned' OR t.returnDayNumber IS NULL THEN NULL
    WHEN t.returnDayNumber + 30 > :last_day_number THEN NULL
    WHEN p.relapsed = 1 THEN TRUE
    ELSE FALSE
  END AS relapsed_within_30_days
FROM draws r
JOIN returns t ON t.recallId = r.recallId
LEFT JOIN relapses p ON p.recallId = r.recallId
ORDER BY r.recallId
