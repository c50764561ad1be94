SELECT
  rate_date,
  rate
FROM fx_rates
WHERE
  (
    currency = ? AND rate_date <= CAST(? AS DATE)
  )
  AND rate_date >= COALESCE(
    (
      SELECT
        MAX(rate_date)
      FROM fx_rates
      WHERE
        currency = ? AND rate_date <= CAST(? AS DATE)
    ),
    rate_date
  )
ORDER BY
  rate_date NULLS LAST
