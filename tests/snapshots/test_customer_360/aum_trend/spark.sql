SELECT
  h.snapshot_date,
  SUM(h.balance) AS aum
FROM holdings AS h
JOIN products AS p
  ON p.product_id = h.product_id
WHERE
  p.type IN ('deposit', 'time_deposit', 'wealth', 'fund', 'insurance', 'pension')
  AND h.customer_id = ?
GROUP BY
  h.snapshot_date
ORDER BY
  h.snapshot_date NULLS LAST
