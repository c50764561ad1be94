SELECT
  f.currency,
  f.rate_date,
  f.rate
FROM (
  SELECT
    f.currency,
    f.on_date,
    f.rate_date,
    x.rate
  FROM (
    SELECT
      n.currency,
      n.on_date,
      MAX(r.rate_date) AS rate_date
    FROM (
      SELECT DISTINCT
        currency,
        CAST(? AS DATE) AS on_date
      FROM fx_rates AS c
    ) AS n
    JOIN fx_rates AS r
      ON r.currency = n.currency AND r.rate_date <= n.on_date
    GROUP BY
      n.currency,
      n.on_date
  ) AS f
  JOIN fx_rates AS x
    ON x.currency = f.currency AND x.rate_date = f.rate_date
) AS f
ORDER BY
  f.currency
