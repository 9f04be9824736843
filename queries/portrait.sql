-- Churned and active users on the report day, side by side: the playbook's portrait of who churns.
-- The median is taken with row numbers (no dialect-specific percentile function): the middle row of
-- an odd group, the mean of the two middle rows of an even one, i.e. the rows where
-- group_size <= 2 * position <= group_size + 2.
WITH people AS (
  SELECT
    status,
    investCount,
    maxInvestFen,
    heldBonusProduct,
    balanceFen,
    ROW_NUMBER() OVER (PARTITION BY status ORDER BY maxInvestFen) AS position,
    COUNT(*) OVER (PARTITION BY status) AS group_size
  FROM snapshots
  WHERE "day" = :as_of_date AND dayNumber = :as_of_day AND status IN ('churned', 'active')
)
SELECT
  status,
  COUNT(*) AS users,
  SUM(CASE WHEN investCount <= 2 THEN 1 ELSE 0 END) AS at_most_two_investments,
  SUM(CASE WHEN maxInvestFen < :trust_line_fen AND NOT heldBonusProduct THEN 1 ELSE 0 END) AS small_no_bonus,
  SUM(CASE WHEN balanceFen < :low_balance_under_fen THEN 1 ELSE 0 END) AS low_balance,
  AVG(CASE WHEN 2 * position BETWEEN group_size AND group_size + 2 THEN CAST(maxInvestFen AS DOUBLE) END)
    AS median_max_invest_fen
FROM people
GROUP BY status
ORDER BY status
