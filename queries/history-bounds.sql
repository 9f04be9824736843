-- The first and last scan day in the lake. They give the report its default window and tell the
-- backtest how far ahead the history reaches (a day D is judged only when D + horizon is in it).
SELECT
  MIN(dayNumber) AS first_day_number,
  MAX(dayNumber) AS last_day_number,
  MIN("day") AS first_day,
  MAX("day") AS last_day,
  COUNT(*) AS user_days
FROM snapshots
