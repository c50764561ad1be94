SELECT
  n.currency,
  MIN(n.on_date) AS first_date
FROM (
  SELECT DISTINCT
    COALESCE(currency, 'CNY') AS currency,
    snapshot_date AS on_date
  FROM (
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
      AND h.snapshot_date = (
        SELECT
          MAX(snapshot_date) AS snapshot_date
        FROM holdings
      )
  ) AS a
  WHERE
    COALESCE(currency, 'CNY') <> 'CNY'
) AS n
LEFT JOIN (
  SELECT
    currency,
    MIN(rate_date) AS first_rate
  FROM fx_rates AS r
  GROUP BY
    currency
) AS f
  ON f.currency = n.currency
WHERE
  f.first_rate IS NULL OR n.on_date < f.first_rate
GROUP BY
  n.currency
