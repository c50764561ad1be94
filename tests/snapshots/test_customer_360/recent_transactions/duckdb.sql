SELECT
  txn_id,
  ts,
  amount,
  currency,
  direction,
  channel,
  category,
  counterparty_type,
  product_id
FROM transactions
WHERE
  customer_id = ?
ORDER BY
  ts DESC
LIMIT 20
