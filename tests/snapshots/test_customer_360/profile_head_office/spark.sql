SELECT
  customer_id,
  branch_id,
  name,
  birth_date,
  gender,
  city,
  city_tier,
  occupation,
  onboarded_at,
  risk_level,
  risk_assessed_at,
  address,
  status,
  is_vulnerable,
  NOT phone_hash IS NULL AS has_phone,
  NOT id_no_hash IS NULL AS has_id_no,
  (
    TRUE
  ) AS in_scope
FROM customers
WHERE
  customer_id = ?
