WITH lx_holdings_latest AS (
  SELECT
    MAX(snapshot_date) AS snapshot_date
  FROM holdings
), lx_fx_latest AS (
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
            snapshot_date
          FROM lx_holdings_latest
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
), lx_customer_aum AS (
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
          snapshot_date
        FROM lx_holdings_latest
      )
  ) AS a
  LEFT JOIN lx_fx_latest AS x
    ON x.currency = a.currency
  GROUP BY
    a.customer_id
)
SELECT
  c.customer_id,
  l.snapshot_date,
  CAST(COALESCE(a.aum, 0) AS DECIMAL(20, 2)) AS aum,
  CASE
    WHEN COALESCE(a.aum, 0) < 50000
    THEN 'long_tail'
    WHEN COALESCE(a.aum, 0) < 500000
    THEN 'base'
    WHEN COALESCE(a.aum, 0) < 6000000
    THEN 'wealth'
    ELSE 'private'
  END AS tier
FROM customers AS c
CROSS JOIN lx_holdings_latest AS l
LEFT JOIN lx_customer_aum AS a
  ON a.customer_id = c.customer_id
