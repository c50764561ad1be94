SELECT
  account_id,
  type,
  branch_id,
  account_no_last4,
  currency,
  opened_at,
  closed_at,
  status
FROM accounts
WHERE
  customer_id = ?
ORDER BY
  opened_at
