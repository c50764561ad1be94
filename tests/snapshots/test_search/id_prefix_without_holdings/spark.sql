SELECT
  c.customer_id,
  c.branch_id,
  c.name,
  c.city,
  c.risk_level,
  NULL AS aum,
  NULL AS aum_as_of
FROM (
  SELECT
    *
  FROM customers
  WHERE
    branch_id = 'BR0101'
) AS c
WHERE
  STARTSWITH(c.customer_id, ?)
ORDER BY
  c.customer_id NULLS LAST
LIMIT ?
