-- Users and churned users by lifecycle stage and acquisition channel on the report day. The finest
-- cells only: totals by stage, by channel and overall are exact sums of these rows.
SELECT
  lifecycle AS stage,
  channel,
  COUNT(*) AS users,
  SUM(CASE WHEN status = 'churned' THEN 1 ELSE 0 END) AS churned
FROM snapshots
WHERE "day" = :as_of_date AND dayNumber = :as_of_day
GROUP BY lifecycle, channel
ORDER BY stage, channel
