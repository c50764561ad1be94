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
      TRUE
  ) AS c
  LEFT JOIN (
    SELECT
      a.customer_id,
      MAX(a.snapshot_date) AS snapshot_date,
      CASE
        WHEN COUNT(*) = COUNT(
          CASE
            WHEN a.currency = 'CNY'
            THEN a.balance
            ELSE CAST(ROUND(a.balance * x.rate, 2) AS DECIMAL(18, 2))
          END
        )
        THEN SUM(
          CASE
            WHEN a.currency = 'CNY'
            THEN a.balance
            ELSE CAST(ROUND(a.balance * x.rate, 2) AS DECIMAL(18, 2))
          END
        )
      END AS aum
    FROM (
      SELECT
        h.customer_id,
        h.snapshot_date,
        COALESCE(h.currency, 'CNY') AS currency,
        h.balance
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
    ) AS a
    LEFT JOIN (
      SELECT
        f.currency,
        f.on_date,
        f.rate_date,
        x.rate
      FROM (
        SELECT
          n.currency,
          n.on_date,
          MAX(r.rate_date) AS rate_date
        FROM (
          SELECT DISTINCT
            currency,
            (
              SELECT
                MAX(snapshot_date) AS snapshot_date
              FROM holdings
            ) AS on_date
          FROM fx_rates AS c
        ) AS n
        JOIN fx_rates AS r
          ON r.currency = n.currency AND r.rate_date <= n.on_date
        GROUP BY
          n.currency,
          n.on_date
      ) AS f
      JOIN fx_rates AS x
        ON x.currency = f.currency AND x.rate_date = f.rate_date
    ) AS x
      ON x.currency = a.currency
    GROUP BY
      a.customer_id
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
