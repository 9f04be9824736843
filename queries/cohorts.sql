-- Users and churned users by registration month on the report day (cohort churn).
SELECT
  registeredMonth AS month,
  COUNT(*) AS users,
  SUM(CASE WHEN status = 'churned' THEN 1 ELSE 0 END) AS churned
FROM snapshots
WHERE "day" = :as_of_date AND dayNumber = :as_of_day
GROUP BY registeredMonth
ORDER BY month
