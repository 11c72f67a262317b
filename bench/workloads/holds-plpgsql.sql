-- holds: hold 1 credit, then capture it (plpgsql 10001..20000)
\set aid random(10001, 20000)
SELECT (bench_plpgsql.hold_credits(:aid, 1)).hold_id AS hid \gset
SELECT bench_plpgsql.capture_hold(:aid, :hid);
