-- holds: hold 1 credit, then capture it (credits 1..10000)
\set aid random(1, 10000)
SELECT (credits.hold_credits(:aid, 1)).hold_id AS hid \gset
SELECT credits.capture_hold(:aid, :hid);
