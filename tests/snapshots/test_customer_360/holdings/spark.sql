SELECT
  h.product_id,
  p.name AS product_name,
  p.type AS product_type,
  p.risk_level AS product_risk_level,
  h.currency,
  h.balance
FROM holdings AS h
LEFT JOIN products AS p
  ON p.product_id = h.product_id
WHERE
  (
    h.customer_id = ? AND h.snapshot_date = ?
  ) AND h.balance <> 0
ORDER BY
  h.balance DESC
