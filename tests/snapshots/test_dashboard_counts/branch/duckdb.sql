WITH base AS (
  SELECT
    c.customer_id,
    c.branch_id,
    c.risk_level,
    CASE
      WHEN COALESCE(a.aum, 0) < 50000
      THEN 'long_tail'
      WHEN COALESCE(a.aum, 0) < 500000
      THEN 'base'
      WHEN COALESCE(a.aum, 0) < 6000000
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
  LEFT JOIN (
    SELECT
      h.customer_id,
      MAX(h.snapshot_date) AS snapshot_date,
      SUM(h.balance) AS aum
    FROM holdings AS h
    JOIN products AS p
      ON p.product_id = h.product_id
    WHERE
      p.type IN ('deposit', 'time_deposit', 'wealth', 'fund', 'insurance', 'pension')
      AND h.snapshot_date = (
        SELECT
          MAX(snapshot_date) AS snapshot_date
        FROM holdings
      )
    GROUP BY
      h.customer_id
  ) AS a
    ON a.customer_id = c.customer_id
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
