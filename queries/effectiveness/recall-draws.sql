-- Recall and holdout draws with the day each user came back, for the uplift
-- (functions/domain/effectiveness.ts: drawOf, uplift, upliftBy).
-- Reads `recalls` (one outcome row per closed recall or holdout draw) and `snapshots`.
-- A return is a login or an investment on a later day than the one the draw's start-day snapshot
-- already shows: the same rule for recalled and holdout users. An opened in-app message is not a
-- return, since a holdout user has none. Without a start-day snapshot, any login or investment on or
-- after the start day counts. returnDayNumber is null while the user has not come back.
WITH baseline AS (
  SELECT
    r.recallId,
    s.dayNumber - s.daysSinceLogin AS loginDayAtStart,
    s.dayNumber - s.daysSinceInvest AS investDayAtStart
  FROM recalls r
  LEFT JOIN snapshots s ON s.userId = r.userId AND s.dayNumber = r.startedDayNumber
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
  FROM recalls r
  JOIN baseline b ON b.recallId = r.recallId
  JOIN snapshots s ON s.userId = r.userId AND s.dayNumber > r.startedDayNumber
  GROUP BY r.recallId
)
SELECT
  r.recallId,
  r.userId,
  r.holdout,
  r.trigger,
  r.startedDayNumber,
  r.lifecycle,
  r.level,
  r.channel,
  r.strategies,
  -- LEAST would differ between the engines on a null (Trino: null, DuckDB: the other value).
  CASE
    WHEN l.loginDay IS NULL THEN l.investDay
    WHEN l.investDay IS NULL THEN l.loginDay
    WHEN l.loginDay <= l.investDay THEN l.loginDay
    ELSE l.investDay
  END AS returnDayNumber
FROM recalls r
LEFT JOIN later l ON l.recallId = r.recallId
ORDER BY r.recallId
