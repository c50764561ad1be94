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
