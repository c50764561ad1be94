WITH lx_numbers AS (
  SELECT
    UNNEST([1, 2, 3]) AS n
), lx_doubled AS (
  SELECT
    n * 2 AS n
  FROM lx_numbers
)
SELECT
  SUM(n) AS total
FROM lx_doubled
