-- Churn reasons from every callback and survey answer ever recorded (each answer counts once).
SELECT
  churnReason AS reason,
  COUNT(*) AS answers
FROM feedback
GROUP BY churnReason
ORDER BY answers DESC, reason
