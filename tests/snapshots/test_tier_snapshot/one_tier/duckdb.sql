WITH lx_holdings_latest AS (
  SELECT
    MAX(snapshot_date) AS snapshot_date
  FROM holdings
), lx_customer_aum AS (
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
        snapshot_date
      FROM lx_holdings_latest
    )
  GROUP BY
    h.customer_id
)
SELECT
  c.customer_id,
  l.snapshot_date,
  CAST(COALESCE(a.aum, 0) AS DECIMAL(20, 2)) AS aum,
  CASE WHEN TRUE THEN 'everyone' END AS tier
FROM customers AS c
CROSS JOIN lx_holdings_latest AS l
LEFT JOIN lx_customer_aum AS a
  ON a.customer_id = c.customer_id
