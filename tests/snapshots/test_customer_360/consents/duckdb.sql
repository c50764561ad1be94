SELECT
  purpose,
  channel,
  status,
  since,
  source
FROM (
  SELECT
    purpose,
    channel,
    status,
    ts AS since,
    source,
    ROW_NUMBER() OVER (PARTITION BY purpose, channel ORDER BY ts DESC, consent_event_id DESC) AS lx_rank
  FROM consent_events
  WHERE
    customer_id = ?
) AS e
WHERE
  lx_rank = 1
ORDER BY
  purpose,
  channel
