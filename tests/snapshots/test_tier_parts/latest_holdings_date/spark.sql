SELECT
  MAX(snapshot_date) AS snapshot_date
FROM holdings
