-- Issues named in every callback and survey answer ever recorded (an answer may name several).
SELECT
  i.issue,
  COUNT(*) AS answers
FROM feedback f
CROSS JOIN UNNEST(f.issues) AS i (issue)
GROUP BY i.issue
ORDER BY answers DESC, i.issue
