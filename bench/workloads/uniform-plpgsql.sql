-- uniform: 1 credit from a random account (plpgsql 10001..20000)
\set aid random(10001, 20000)
SELECT bench_plpgsql.redeem_credits(:aid, 1);
