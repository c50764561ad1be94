SELECT
  event_id,
  ts,
  channel,
  event_name
FROM events
WHERE
  customer_id = ?
ORDER BY
  ts DESC
LIMIT 20
