SELECT
  h.snapshot_date,
  h.currency,
  h.balance
FROM holdings AS h
JOIN products AS p
  ON p.product_id = h.product_id
WHERE
  p.type IN ('deposit', 'time_deposit', 'wealth', 'fund', 'insurance', 'pension')
  AND h.customer_id = ?
ORDER BY
  h.snapshot_date NULLS LAST
