-- Acquisition channel mix of churned and of active users on the report day.
SELECT
  status,
  channel,
  COUNT(*) AS users
FROM snapshots
WHERE "day" = :as_of_date AND dayNumber = :as_of_day AND status IN ('churned', 'active')
GROUP BY status, channel
ORDER BY status, users DESC, channel
