CASE
  WHEN COALESCE(a.aum, 0) < 50000
  THEN 'long_tail'
  WHEN COALESCE(a.aum, 0) < 500000
  THEN 'base'
  WHEN COALESCE(a.aum, 0) < 6000000
  THEN 'wealth'
  ELSE 'private'
END
