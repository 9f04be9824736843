-- Users by status on each scan day of the window (the status trend chart; the last row is the headline).
SELECT
  "day",
  dayNumber AS day_number,
  COUNT(*) AS users,
  SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active,
  SUM(CASE WHEN status = 'at_risk' THEN 1 ELSE 0 END) AS at_risk,
  SUM(CASE WHEN status = 'churned' THEN 1 ELSE 0 END) AS churned
FROM snapshots
WHERE "day" BETWEEN :from_date AND :to_date AND dayNumber BETWEEN :from_day AND :to_day
GROUP BY "day", dayNumber
ORDER BY dayNumber
