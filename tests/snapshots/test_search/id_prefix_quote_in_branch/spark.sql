SELECT
  c.customer_id,
  c.branch_id,
  c.name,
  c.city,
  c.risk_level,
  a.aum,
  a.snapshot_date AS aum_as_of
FROM (
  SELECT
    *
  FROM customers
  WHERE
    branch_id = 'B\'; DROP TABLE customers; --'
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
WHERE
  STARTSWITH(c.customer_id, ?)
ORDER BY
  c.customer_id NULLS LAST
LIMIT ?
