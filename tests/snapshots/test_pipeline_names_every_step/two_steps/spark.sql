WITH lx_numbers AS (
  SELECT
    EXPLODE(ARRAY(1, 2, 3), n)
), lx_doubled AS (
  SELECT
    n * 2 AS n
  FROM lx_numbers
)
SELECT
  SUM(n) AS total
FROM lx_doubled
