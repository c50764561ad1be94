WITH base AS (
  SELECT
    c.customer_id,
    c.branch_id,
    c.risk_level,
    CASE
      WHEN COALESCE(NULL, 0) < 50000
      THEN 'long_tail'
      WHEN COALESCE(NULL, 0) < 500000
      THEN 'base'
      WHEN COALESCE(NULL, 0) < 6000000
      THEN 'wealth'
      ELSE 'private'
    END AS tier
  FROM (
    SELECT
      *
    FROM customers
    WHERE
      branch_id = 'BR0101'
  ) AS c
)
SELECT
  'tier' AS dim,
  tier AS key,
  COUNT(*) AS n
FROM base
GROUP BY
  tier
UNION ALL
SELECT
  'risk' AS dim,
  COALESCE(risk_level, 'unknown') AS key,
  COUNT(*) AS n
FROM base
GROUP BY
  risk_level
UNION ALL
SELECT
  'branch' AS dim,
  branch_id AS key,
  COUNT(*) AS n
FROM base
GROUP BY
  branch_id
