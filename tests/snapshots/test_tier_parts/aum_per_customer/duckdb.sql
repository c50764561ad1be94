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
